using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests.Harness;

/// <summary>
/// Runs `sidecar proxy --config FILE` with a config written into a private temp dir, waits for
/// admin GET /ready == 200, and on dispose stops it (SIGTERM, then SIGKILL) and writes its output
/// to the test output.
/// </summary>
public sealed class SidecarProcess : IDisposable
{
    public SidecarConfig Config { get; }
    public TempDir Dir { get; }
    public string ConfigPath { get; }
    public BackgroundProcess Process { get; }
    private readonly ITestOutputHelper? _output;
    public int AdminPort => Config.AdminPort;
    public int Pid => Process.Pid;

    private SidecarProcess(SidecarConfig config, TempDir dir, string configPath, BackgroundProcess p, ITestOutputHelper? output)
    {
        Config = config; Dir = dir; ConfigPath = configPath; Process = p; _output = output;
    }

    public static Task<SidecarProcess> Start(SidecarConfig config, ITestOutputHelper? output, TimeSpan? readyTimeout = null,
        params string[] extraArgs) => StartWithEnv(config, output, null, readyTimeout, extraArgs);

    /// <summary>As <see cref="Start"/>, with extra environment variables (e.g. SIDECAR_CERT_DIR for the workload certificate).</summary>
    public static async Task<SidecarProcess> StartWithEnv(SidecarConfig config, ITestOutputHelper? output,
        IDictionary<string, string>? env, TimeSpan? readyTimeout = null, params string[] extraArgs)
    {
        var bin = TestEnv.RequireSidecar();
        var dir = TestEnv.NewTempDir("sidecar");
        var path = dir.File("envoy.yaml");
        var yaml = config.ToYaml();
        File.WriteAllText(path, yaml);
        var p = new BackgroundProcess("sidecar", bin, ["proxy", "--config", path, .. extraArgs], dir.Path, env);
        var sc = new SidecarProcess(config, dir, path, p, output);
        var sw = Stopwatch.StartNew();
        var timeout = readyTimeout ?? TimeSpan.FromSeconds(15);
        string last = "no response";
        while (sw.Elapsed < timeout)
        {
            if (p.HasExited)
            {
                var msg = $"sidecar exited with code {p.ExitCode} before /ready\n--- config ---\n{yaml}\n--- output ---\n{p.Output}";
                sc.Dispose();
                throw new InvalidOperationException(msg);
            }
            try
            {
                var r = await RawHttp.Exchange(config.AdminPort, "GET /ready HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n",
                    TimeSpan.FromSeconds(2));
                if (r.Status == 200) return sc;
                last = r.Head;
            }
            catch (Exception e) when (e is SocketException or IOException or TimeoutException or OperationCanceledException or FormatException)
            {
                last = e.GetType().Name + ": " + e.Message;
            }
            await Task.Delay(50);
        }
        var m = $"sidecar not ready on admin port {config.AdminPort} within {timeout} (last: {last})\n--- config ---\n{yaml}\n--- output ---\n{p.Output}";
        sc.Dispose();
        throw new InvalidOperationException(m);
    }

    public async Task<string> Admin(string method, string path)
    {
        var r = await RawHttp.Exchange(AdminPort, $"{method} {path} HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            TimeSpan.FromSeconds(10));
        return r.Body;
    }

    /// <summary>Parses Envoy text /stats ("name: value") into a dictionary.</summary>
    public async Task<Dictionary<string, string>> Stats()
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (await Admin("GET", "/stats")).Split('\n'))
        {
            var i = line.LastIndexOf(": ", StringComparison.Ordinal);
            if (i > 0) d[line[..i].Trim()] = line[(i + 2)..].Trim();
        }
        return d;
    }

    public long RssKb() => Process.RssKb();

    public void Dispose()
    {
        Process.Dispose();
        if (_output != null)
        {
            try { _output.WriteLine($"--- sidecar output (pid {Process.Pid}) ---\n{ProcResult.Tail(Process.Output, 6000)}"); }
            catch (InvalidOperationException) { /* no active test */ }
        }
        Dir.Dispose();
    }
}

/// <summary>Raw HTTP/1.1 over a socket: nothing hidden (for malformed input, half-close, timing).</summary>
public static class RawHttp
{
    public sealed record Response(int Status, string Head, string Body, byte[] Raw, bool ClosedByPeer)
    {
        public string? Header(string name)
        {
            foreach (var line in Head.Split("\r\n").Skip(1))
            {
                var i = line.IndexOf(':');
                if (i > 0 && line[..i].Trim().Equals(name, StringComparison.OrdinalIgnoreCase)) return line[(i + 1)..].Trim();
            }
            return null;
        }
    }

    public static async Task<Socket> Connect(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = new CancellationTokenSource(5000);
        await s.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), cts.Token);
        return s;
    }

    /// <summary>Send bytes, then read until the peer closes or `idle` passes with no data.</summary>
    public static async Task<(byte[] Data, bool Closed)> SendAndRead(Socket s, byte[] request, TimeSpan idle)
    {
        if (request.Length > 0) await s.SendAsync(request, SocketFlags.None);
        return await ReadUntilCloseOrIdle(s, idle);
    }

    public static async Task<(byte[] Data, bool Closed)> ReadUntilCloseOrIdle(Socket s, TimeSpan idle)
    {
        var ms = new MemoryStream();
        var buf = new byte[65536];
        while (true)
        {
            using var cts = new CancellationTokenSource(idle);
            int n;
            try { n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token); }
            catch (OperationCanceledException) { return (ms.ToArray(), false); }
            catch (SocketException) { return (ms.ToArray(), true); } // reset counts as closed
            if (n == 0) return (ms.ToArray(), true);
            ms.Write(buf, 0, n);
        }
    }

    public static Response Parse(byte[] raw, bool closed)
    {
        var text = Encoding.Latin1.GetString(raw);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = end >= 0 ? text[..end] : text;
        var body = end >= 0 ? text[(end + 4)..] : "";
        var status = 0;
        var parts = head.Split(' ', 3);
        if (parts.Length >= 2 && parts[0].StartsWith("HTTP/", StringComparison.Ordinal)) int.TryParse(parts[1], out status);
        return new Response(status, head, body, raw, closed);
    }

    /// <summary>One request on a fresh connection (request should say Connection: close).</summary>
    public static async Task<Response> Exchange(int port, string request, TimeSpan idle)
    {
        using var s = await Connect(port);
        var (data, closed) = await SendAndRead(s, Encoding.Latin1.GetBytes(request), idle);
        return Parse(data, closed);
    }
}
