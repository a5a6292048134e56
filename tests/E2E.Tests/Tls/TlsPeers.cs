using System.Text.RegularExpressions;
using Sidecar.E2E.Tests.Harness;

namespace Sidecar.E2E.Tests.Tls;

/// <summary>
/// A peer (nginx, haproxy, openssl s_server, socat) started from a template under peers/tls/ or a command line,
/// waiting until its first port accepts connections. {{KEY}} placeholders are replaced from the given map;
/// {{DIR}} is the peer's private temp dir.
/// </summary>
public sealed class TlsPeer : IDisposable
{
    public TempDir Dir { get; }
    private readonly BackgroundProcess _p;
    private readonly string _logFile;

    private TlsPeer(TempDir dir, BackgroundProcess p, string logFile) { Dir = dir; _p = p; _logFile = logFile; }

    public string Output => _p.Output + UpstreamPeers.ReadOrEmpty(_logFile);

    public static string Template(string name, TempDir dir, IReadOnlyDictionary<string, string> values)
    {
        var text = File.ReadAllText(Path.Combine(TestEnv.PeersDir, "tls", name)).Replace("{{DIR}}", dir.Path);
        foreach (var (k, v) in values) text = text.Replace("{{" + k + "}}", v);
        var left = Regex.Match(text, @"\{\{[A-Z_]+\}\}");
        if (left.Success) throw new ArgumentException($"template {name}: no value for {left.Value}");
        return text;
    }

    /// <summary>nginx with peers/tls/<paramref name="template"/>; waits for <paramref name="waitPort"/>.</summary>
    public static Task<TlsPeer> Nginx(string template, IReadOnlyDictionary<string, string> values, int waitPort)
    {
        var dir = TestEnv.NewTempDir("nginx-tls");
        Directory.CreateDirectory(dir.File("tmp"));
        File.WriteAllText(dir.File("nginx.conf"), Template(template, dir, values));
        return StartIn(dir, "nginx", TestEnv.Tool("nginx", "nginx-light"),
            ["-e", dir.File("error.log"), "-c", dir.File("nginx.conf"), "-p", dir.Path], waitPort, dir.File("error.log"));
    }

    /// <summary>haproxy (foreground) with peers/tls/<paramref name="template"/>; waits for <paramref name="waitPort"/>.</summary>
    public static Task<TlsPeer> Haproxy(string template, IReadOnlyDictionary<string, string> values, int waitPort)
    {
        var dir = TestEnv.NewTempDir("haproxy-tls");
        File.WriteAllText(dir.File("haproxy.cfg"), Template(template, dir, values));
        return StartIn(dir, "haproxy", TestEnv.Tool("haproxy", "haproxy"), ["-db", "-f", dir.File("haproxy.cfg")], waitPort, "");
    }

    /// <summary>Any command listening on <paramref name="waitPort"/>.</summary>
    public static Task<TlsPeer> Command(string name, string file, IEnumerable<string> args, int waitPort) =>
        StartIn(TestEnv.NewTempDir(name), name, file, args, waitPort, "");

    /// <summary><c>openssl s_server -www</c> with the given certificate; extra args e.g. <c>-Verify 1 -verify_return_error</c>.</summary>
    public static Task<TlsPeer> OpenSslServer(CertFiles cert, int port, params string[] extra) =>
        Command("s_server", TestEnv.Tool("openssl", "openssl"),
            ["s_server", "-accept", $"127.0.0.1:{port}", "-cert", cert.Chain, "-key", cert.Key, "-CAfile", cert.Root, "-www", "-naccept", "1000", .. extra],
            port);

    private static async Task<TlsPeer> StartIn(TempDir dir, string name, string file, IEnumerable<string> args, int waitPort, string logFile)
    {
        var p = new BackgroundProcess(name, file, args, dir.Path);
        if (!await TestEnv.WaitForPort(waitPort, TimeSpan.FromSeconds(15), () => p.HasExited))
        {
            var o = p.Output + UpstreamPeers.ReadOrEmpty(logFile);
            p.Dispose();
            dir.Dispose();
            throw new InvalidOperationException($"{name} did not start on {waitPort}:\n{o}");
        }
        return new TlsPeer(dir, p, logFile);
    }

    public void Dispose()
    {
        _p.Dispose();
        Dir.Dispose();
    }
}

/// <summary>openssl s_client and curl over TLS, with the test PKI.</summary>
public static class TlsClients
{
    /// <summary>
    /// <c>openssl s_client</c> to 127.0.0.1:<paramref name="port"/>; sends <paramref name="stdin"/> and keeps reading
    /// until the server closes (<c>-ign_eof</c>). The server is verified against <paramref name="caFile"/>.
    /// </summary>
    public static Task<ProcResult> SClient(int port, CertFiles? cert, string caFile, string stdin, params string[] extra)
    {
        List<string> args = ["s_client", "-connect", $"127.0.0.1:{port}", "-CAfile", caFile, "-verify_return_error", "-ign_eof"];
        if (cert != null) args.AddRange(["-cert", cert.Chain, "-key", cert.Key]);
        args.AddRange(extra);
        return Proc.Run(TestEnv.Tool("openssl", "openssl"), args, TimeSpan.FromSeconds(30), stdin);
    }

    public const string GetHello = "GET /hello HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n";

    /// <summary>The negotiated ALPN protocol from s_client's output ("" when none).</summary>
    public static string Alpn(ProcResult r)
    {
        var m = Regex.Match(r.StdOut, @"^ALPN protocol: (\S+)", RegexOptions.Multiline);
        return m.Success ? m.Groups[1].Value : "";
    }

    /// <summary>The serial of the server's leaf certificate (from <c>-showcerts</c> output).</summary>
    public static string PeerSerial(ProcResult r) => MeshPki.SerialOfFirstPem(r.StdOut);

    /// <summary>curl over TLS to https://server.mounted-certs.svc:PORT (resolved to 127.0.0.1) with a client certificate.</summary>
    public static Task<ProcResult> Curl(int port, CertFiles? cert, string caFile, string path, params string[] extra)
    {
        List<string> args = ["--resolve", $"{MeshPki.ServerDns}:{port}:127.0.0.1", "--cacert", caFile];
        if (cert != null) args.AddRange(["--cert", cert.Chain, "--key", cert.Key]);
        args.AddRange(extra);
        args.Add($"https://{MeshPki.ServerDns}:{port}{path}");
        return Proc.Curl([.. args]);
    }
}

/// <summary>Lines of a process's captured output that report a TLS refusal for <paramref name="reason"/> on <paramref name="side"/> <paramref name="name"/>.</summary>
public static class RefusalLog
{
    public static int Count(string output, string side, string name, string reason) =>
        output.Split('\n').Count(l => l.Contains($"{side} {name}: TLS handshake with", StringComparison.Ordinal)
                                      && l.Contains($"refused: {reason} ", StringComparison.Ordinal));
}
