using Sidecar.E2E.Tests.Harness;

namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// nghttpd (Debian nghttp2-server) in cleartext prior-knowledge mode on a free loopback port, serving a
/// private document root whose index.html is the response to GET / (long enough for the flow-control probes).
/// </summary>
public sealed class NghttpdPeer : IDisposable
{
    public int Port { get; }
    private readonly TempDir _dir;
    private readonly BackgroundProcess _p;

    private NghttpdPeer(int port, TempDir dir, BackgroundProcess p) { Port = port; _dir = dir; _p = p; }

    public static async Task<NghttpdPeer> Start()
    {
        var bin = TestEnv.Tool("nghttpd", "nghttp2-server");
        var dir = TestEnv.NewTempDir("nghttpd");
        File.WriteAllText(dir.File("index.html"), "<html><body>h2 conformance probe target</body></html>\n");
        var port = TestEnv.FreePort();
        var p = new BackgroundProcess("nghttpd", bin, ["-v", "--no-tls", "-a", "127.0.0.1", "-d", dir.Path, port.ToString()]);
        if (!await TestEnv.WaitForPort(port, TimeSpan.FromSeconds(15), () => p.HasExited))
        {
            var o = p.Output; p.Dispose(); dir.Dispose();
            throw new InvalidOperationException($"nghttpd did not start on {port}:\n{o}");
        }
        return new NghttpdPeer(port, dir, p);
    }

    public string Output => _p.Output;

    public void Dispose()
    {
        _p.Dispose();
        _dir.Dispose();
    }
}
