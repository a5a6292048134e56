using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Sidecar.Benchmarks.Throughput;

/// <summary>
/// Starts the backend nginx and one proxy process from the same configs as bench/run.py
/// (bench/peers/*, placeholders filled in), on ports of their own (183xx) so both tools can coexist.
/// </summary>
internal sealed class PeerProcesses : IDisposable
{
    public const int BackendPort = 18380;
    private const int ProxyPort = 18301;
    private const int UnusedPort = 18399; // tcp/iperf placeholders: the throughput suite is HTTP only

    private readonly string _dir = Directory.CreateTempSubdirectory("sidecar-bdn.").FullName;
    private readonly List<Process> _processes = [];

    public int Port => ProxyPort;

    /// <summary>The proxy process whose CPU is accounted.</summary>
    public Process Proxy { get; private set; } = null!;

    /// <summary>Proxies this machine can run: the ones whose binary exists.</summary>
    public static IEnumerable<string> Available()
    {
        if (File.Exists(SidecarBinary))
        {
            yield return "sidecar";
        }
        if (Which("haproxy") is not null)
        {
            yield return "haproxy";
        }
        if (Which("nginx") is not null)
        {
            yield return "nginx";
        }
        if (File.Exists(Path.Combine(YarpDir, "yarp-peer")))
        {
            yield return "yarp";
        }
        if (EnvoyBinary is not null)
        {
            yield return "envoy";
        }
    }

    public static string RepoRoot { get; } = FindRepoRoot();
    private static string Peers => Path.Combine(RepoRoot, "bench", "peers");
    private static string SidecarBinary => Environment.GetEnvironmentVariable("SIDECAR_BIN") ?? Path.Combine(RepoRoot, "out", "sidecar");
    private static string YarpDir => Path.Combine(RepoRoot, "out", "bench", "yarp");
    private static string? EnvoyBinary => Environment.GetEnvironmentVariable("ENVOY_BIN") is { Length: > 0 } e ? e : Which("envoy");

    public void Start(string proxy)
    {
        File.WriteAllBytes(Path.Combine(Directory.CreateDirectory(Path.Combine(_dir, "www")).FullName, "1k"), new byte[1024]);
        var nginx = Which("nginx") ?? throw new InvalidOperationException("nginx not found (./build.sh setup)");
        Launch(nginx, ["-c", Render("backend-nginx.conf", ("PORT", BackendPort)), "-p", _dir, "-e", Path.Combine(_dir, "b.log")], null);
        WaitFor200(BackendPort, null);
        (string Exe, string[] Args, string? Cwd) launch = proxy switch
        {
            "sidecar" => (SidecarBinary, ["proxy", "--config", Render("sidecar.yaml", ("PORT", ProxyPort), ("ADMIN_PORT", ProxyPort + 100),
                ("TCP_PORT", ProxyPort + 50), ("IPERF_PORT", UnusedPort), ("BACKEND_PORT", BackendPort), ("GENERATE_REQUEST_ID", "false"))], null),
            "haproxy" => (Which("haproxy")!, ["-db", "-f", Render("haproxy.cfg", ("PORT", ProxyPort), ("TCP_PORT", ProxyPort + 50),
                ("MAXCONN", 4096), ("ULIMIT_N", 10000),
                ("IPERF_PORT", UnusedPort), ("BACKEND_PORT", BackendPort))], null),
            "nginx" => (nginx, ["-c", Render("nginx-proxy.conf", ("PORT", ProxyPort), ("BACKEND_PORT", BackendPort)), "-p", _dir,
                "-e", Path.Combine(_dir, "p.log")], null),
            "yarp" => (Path.Combine(YarpDir, "yarp-peer"), ["--urls", $"http://127.0.0.1:{ProxyPort}",
                $"--ReverseProxy:Clusters:backend:Destinations:d1:Address=http://127.0.0.1:{BackendPort}/"], YarpDir),
            "envoy" => (EnvoyBinary!, ["-c", Render("envoy.yaml", ("PORT", ProxyPort), ("ADMIN_PORT", ProxyPort + 100), ("TCP_PORT", ProxyPort + 50),
                ("IPERF_PORT", UnusedPort), ("BACKEND_PORT", BackendPort)), "--concurrency", "1", "-l", "error"], null),
            _ => throw new ArgumentException($"unknown proxy {proxy}", nameof(proxy)),
        };
        Proxy = Launch(launch.Exe, launch.Args, launch.Cwd);
        WaitFor200(ProxyPort, Proxy);
    }

    /// <summary>utime + stime of the proxy in clock ticks (proc(5) fields 14 and 15).</summary>
    public long ProxyCpuTicks()
    {
        var stat = File.ReadAllText($"/proc/{Proxy.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) +
               long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
    }

    private string Render(string template, params (string Name, object Value)[] values)
    {
        var text = File.ReadAllText(Path.Combine(Peers, template)).Replace("@DIR@", _dir, StringComparison.Ordinal);
        foreach (var (name, value) in values)
        {
            text = text.Replace($"@{name}@", value.ToString(), StringComparison.Ordinal);
        }
        var path = Path.Combine(_dir, template);
        File.WriteAllText(path, text);
        return path;
    }

    private Process Launch(string exe, string[] args, string? cwd)
    {
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = false, WorkingDirectory = cwd ?? _dir };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        _processes.Add(p);
        return p;
    }

    private static void WaitFor200(int port, Process? p)
    {
        var request = Encoding.ASCII.GetBytes("GET /hello HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n");
        var buf = new byte[64];
        var deadline = Stopwatch.GetTimestamp() + 20 * Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (p is { HasExited: true })
            {
                throw new InvalidOperationException($"{p.StartInfo.FileName} exited with {p.ExitCode} before serving");
            }
            try
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Connect("127.0.0.1", port);
                s.Send(request);
                var n = s.Receive(buf);
                if (n >= 12 && Encoding.ASCII.GetString(buf, 9, 3) == "200")
                {
                    return;
                }
            }
            catch (SocketException)
            {
            }
            Thread.Sleep(20);
        }
        throw new TimeoutException($"nothing served 200 on port {port} within 20 s");
    }

    private static string? Which(string name)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/sbin");
        return path.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
    }

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Sidecar.sln")))
            {
                return d.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(3000);
            }
            catch (InvalidOperationException)
            {
            }
            p.Dispose();
        }
        _processes.Clear();
        Directory.Delete(_dir, recursive: true);
    }
}
