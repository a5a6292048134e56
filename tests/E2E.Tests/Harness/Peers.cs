namespace Sidecar.E2E.Tests.Harness;

/// <summary>
/// nginx (private config, free port) in front of the python test backend (free port).
/// nginx: /hello, /big (100 MiB), /status/204, /status/304, /upload (streamed), everything else → backend.
/// The backend appends one line per complete request to <see cref="BackendLog"/>.
/// </summary>
public sealed class UpstreamPeers : IDisposable
{
    public const long BigSize = 100L * 1024 * 1024;

    public TempDir Dir { get; }
    public int NginxPort { get; }
    public int BackendPort { get; }
    public string BackendLog => Dir.File("backend-requests.log");
    public string NginxAccessLog => Dir.File("access.log");
    private readonly BackgroundProcess _backend;
    private readonly BackgroundProcess _nginx;

    private UpstreamPeers(TempDir dir, int nginxPort, int backendPort, BackgroundProcess backend, BackgroundProcess nginx)
    {
        Dir = dir; NginxPort = nginxPort; BackendPort = backendPort; _backend = backend; _nginx = nginx;
    }

    public static async Task<UpstreamPeers> Start()
    {
        var nginxBin = TestEnv.Tool("nginx", "nginx-light");
        var dir = TestEnv.NewTempDir("peers");
        foreach (var d in new[] { "www", "tmp" }) Directory.CreateDirectory(dir.File(d));
        using (var f = new FileStream(dir.File("www/big"), FileMode.Create)) f.SetLength(BigSize); // sparse 100 MiB

        var backendPort = TestEnv.FreePort();
        var backend = new BackgroundProcess("backend", TestEnv.Python,
            [Path.Combine(TestEnv.PeersDir, "backend.py"), backendPort.ToString(), dir.File("backend-requests.log")]);
        if (!await TestEnv.WaitForPort(backendPort, TimeSpan.FromSeconds(15), () => backend.HasExited))
        {
            var o = backend.Output; backend.Dispose(); dir.Dispose();
            throw new InvalidOperationException($"python backend did not start on {backendPort}:\n{o}");
        }

        var nginxPort = TestEnv.FreePort();
        var conf = File.ReadAllText(Path.Combine(TestEnv.PeersDir, "nginx.conf.template"))
            .Replace("{{DIR}}", dir.Path).Replace("{{PORT}}", nginxPort.ToString())
            .Replace("{{BACKEND_PORT}}", backendPort.ToString());
        File.WriteAllText(dir.File("nginx.conf"), conf);
        var nginx = new BackgroundProcess("nginx", nginxBin,
            ["-e", dir.File("error.log"), "-c", dir.File("nginx.conf"), "-p", dir.Path]);
        if (!await TestEnv.WaitForPort(nginxPort, TimeSpan.FromSeconds(15), () => nginx.HasExited))
        {
            var o = nginx.Output + ReadOrEmpty(dir.File("error.log"));
            nginx.Dispose(); backend.Dispose(); dir.Dispose();
            throw new InvalidOperationException($"nginx did not start on {nginxPort}:\n{o}");
        }
        return new UpstreamPeers(dir, nginxPort, backendPort, backend, nginx);
    }

    public string[] BackendRequests() => ReadOrEmpty(BackendLog).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public string Diagnostics() =>
        $"--- nginx ---\n{_nginx.Output}{ProcResult.Tail(ReadOrEmpty(Dir.File("error.log")), 4000)}\n" +
        $"--- backend ---\n{_backend.Output}\n--- backend request log ---\n{ProcResult.Tail(ReadOrEmpty(BackendLog), 4000)}";

    internal static string ReadOrEmpty(string path)
    {
        try { return File.ReadAllText(path); } catch (Exception) { return ""; }
    }

    public void Dispose()
    {
        _nginx.Dispose();
        _backend.Dispose();
        Dir.Dispose();
    }
}

/// <summary>python3-websockets echo server on a free port.</summary>
public sealed class WsEchoPeer : IDisposable
{
    public int Port { get; }
    private readonly BackgroundProcess _p;
    private WsEchoPeer(int port, BackgroundProcess p) { Port = port; _p = p; }

    public static async Task<WsEchoPeer> Start()
    {
        var port = TestEnv.FreePort();
        var p = new BackgroundProcess("ws-echo", TestEnv.Python, [Path.Combine(TestEnv.PeersDir, "ws_echo.py"), port.ToString()]);
        if (!await TestEnv.WaitForPort(port, TimeSpan.FromSeconds(15), () => p.HasExited))
        {
            var o = p.Output; p.Dispose();
            throw new InvalidOperationException(
                $"websocket echo peer did not start (needs Debian package python3-websockets for {TestEnv.Python}):\n{o}");
        }
        return new WsEchoPeer(port, p);
    }

    public string Output => _p.Output;
    public void Dispose() => _p.Dispose();
}

/// <summary>socat TCP echo (fork, EXEC:cat) on a free port: echoes, then closes after the client's FIN.</summary>
public sealed class SocatEchoPeer : IDisposable
{
    public int Port { get; }
    private readonly BackgroundProcess _p;
    private SocatEchoPeer(int port, BackgroundProcess p) { Port = port; _p = p; }

    public static async Task<SocatEchoPeer> Start()
    {
        var socat = TestEnv.Tool("socat", "socat");
        var port = TestEnv.FreePort();
        var p = new BackgroundProcess("socat-echo", socat,
            ["-T", "30", $"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"]);
        if (!await TestEnv.WaitForPort(port, TimeSpan.FromSeconds(15), () => p.HasExited))
        {
            var o = p.Output; p.Dispose();
            throw new InvalidOperationException($"socat echo did not start:\n{o}");
        }
        return new SocatEchoPeer(port, p);
    }

    public string Output => _p.Output;
    public void Dispose() => _p.Dispose();
}
