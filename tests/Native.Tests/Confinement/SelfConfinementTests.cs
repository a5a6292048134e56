using Sidecar.E2E.Tests.Harness;
using Sidecar.Native.Capabilities;
using Sidecar.Native.Tests.Support;
using Xunit.Abstractions;

namespace Sidecar.Native.Tests.Confinement;

/// <summary>
/// The published proxy under its own confinement (<c>--seccomp</c>), and under the container
/// runtimes' default profile. Run as root in CI: the capability assertions only mean something
/// when the process starts with a full set.
/// </summary>
public sealed class SelfConfinementTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string RuntimeDefaultProfile = "/usr/share/containers/seccomp.json";
    private UpstreamPeers? _peers;

    private UpstreamPeers Peers => _peers ?? throw new InvalidOperationException("peers not started");

    public async Task InitializeAsync() => _peers = await UpstreamPeers.Start();

    public Task DisposeAsync()
    {
        _peers?.Dispose();
        return Task.CompletedTask;
    }

    private (SidecarConfig Config, int HttpPort, int TcpPort, int DnsPort) ProxyConfig()
    {
        var cfg = new SidecarConfig();
        int http = cfg.AddHttpListener([new RouteSpec("/", "web")]);
        int viaDns = cfg.AddHttpListener([new RouteSpec("/", "dns")], statPrefix: "via_dns");
        int tcp = cfg.AddTcpListener("web");
        cfg.AddCluster(new ClusterSpec("web", Peers.NginxPort));
        // STRICT_DNS resolution happens before and after the filter is loaded (refresh).
        cfg.AddCluster(new ClusterSpec("dns", Peers.NginxPort, Type: "STRICT_DNS", Host: "localhost"));
        return (cfg, http, tcp, viaDns);
    }

    /// <summary>A wrk run on the HTTP listener with no failure at all, then one request each via tcp_proxy and the STRICT_DNS cluster.</summary>
    private async Task AssertServes(int http, int tcp, int dnsPort, int seconds)
    {
        WrkResult load = await Load.Wrk($"http://127.0.0.1:{http}/hello", connections: 10, seconds: seconds);
        output.WriteLine(load.ToString());
        Assert.True(load.Requests > 100, load.ToString());
        Assert.Equal(0, load.SocketErrors);
        Assert.Equal(0, load.Non2xx);
        foreach (int port in new[] { tcp, dnsPort })
        {
            var r = await Proc.Curl("-w", " %{http_code}", $"http://127.0.0.1:{port}/hello");
            Assert.True(r.StdOut == "hello\n 200", r.ToString());
        }
    }

    [RootFact]
    public async Task Self_confined_proxy_serves_a_load_run_without_failures_and_holds_no_capability_on_any_thread()
    {
        Privileges.RequireRoot();
        var (cfg, http, tcp, dnsPort) = ProxyConfig();
        using var sc = await ConfinedSidecar.Start(cfg, output, ["--seccomp"]);
        Assert.Contains("confinement: seccomp allow-list loaded on all threads", sc.Process.Output);

        await AssertServes(http, tcp, dnsPort, seconds: 3);

        // Every thread, including those the runtime started under load after the drop.
        var threads = ThreadSecurityStatus.ReadAllThreads(sc.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(threads.Count >= 4, $"only {threads.Count} threads");
        foreach ((int tid, ThreadSecurityStatus s) in threads)
        {
            Assert.True(s.SeccompMode == 2 && s.NoNewPrivileges, $"thread {tid}: seccomp {s.SeccompMode}, no_new_privs {s.NoNewPrivileges}");
            Assert.True(s.Effective.IsEmpty && s.Permitted.IsEmpty && s.Inheritable.IsEmpty && s.Ambient.IsEmpty && s.Bounding.IsEmpty,
                $"thread {tid}: eff {s.Effective} prm {s.Permitted} inh {s.Inheritable} amb {s.Ambient} bnd {s.Bounding}");
        }

        // Drain and exit still work under the filter.
        sc.Process.Signal(Proc.SIGTERM);
        Assert.True(await sc.Process.WaitForExit(TimeSpan.FromSeconds(15)), "no exit after SIGTERM");
        Assert.Equal(0, sc.Process.ExitCode);
    }

    [RootFact]
    public async Task With_an_upstream_mark_only_cap_net_admin_is_kept_and_marked_connections_work()
    {
        Privileges.RequireRoot();
        var (cfg, http, _, _) = ProxyConfig();
        using var sc = await ConfinedSidecar.Start(cfg, output, ["--seccomp"], env: new Dictionary<string, string> { ["SIDECAR_UPSTREAM_MARK"] = "1337" });

        // SO_MARK needs CAP_NET_ADMIN on every upstream connect: a 200 proves the kept capability works.
        for (int i = 0; i < 5; i++)
        {
            var r = await Proc.Curl("-w", " %{http_code}", $"http://127.0.0.1:{http}/hello");
            Assert.True(r.StdOut == "hello\n 200", r.ToString());
        }

        var netAdmin = CapabilitySet.Empty.With(Capability.NetAdmin);
        foreach ((int tid, ThreadSecurityStatus s) in ThreadSecurityStatus.ReadAllThreads(sc.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            Assert.True(s.Effective == netAdmin && s.Permitted == netAdmin && s.Bounding == netAdmin && s.Ambient.IsEmpty,
                $"thread {tid}: eff {s.Effective} prm {s.Permitted} bnd {s.Bounding} amb {s.Ambient}");
        }
    }

    [Fact]
    public async Task Confinement_check_reports_exec_unshare_and_setns_refused_with_eperm()
    {
        Assert.True(File.Exists("/bin/false"), "/bin/false is the exec target; without it a refusal could be ENOENT");
        var r = await Proc.Run(TestEnv.RequireSidecar(), ["confinement-check"], TimeSpan.FromSeconds(30));
        output.WriteLine(r.ToString());
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("execve(/bin/false): refused (EPERM)", r.StdOut);
        Assert.Contains("unshare(0): refused (EPERM)", r.StdOut);
        Assert.Contains("setns(-1, 0): refused (EPERM)", r.StdOut);
        Assert.Contains("without the filter: 0, holding capabilities: 0", r.StdOut);
    }

    [RootFact]
    public async Task Proxy_serves_unchanged_under_the_container_runtime_default_seccomp_profile()
    {
        Privileges.RequireRoot();
        Assert.True(File.Exists(RuntimeDefaultProfile), $"{RuntimeDefaultProfile} missing: Debian golang-github-containers-common (./build.sh setup)");
        // The muxer running this test host runs the launcher too (the test assembly is its entry point).
        string dotnet = Path.GetFileName(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : TestEnv.Tool("dotnet", "dotnet-sdk");
        (string, string[]) launcher = (dotnet, ["exec", Path.Combine(AppContext.BaseDirectory, "Sidecar.Native.Tests.dll"), ProfileLauncher.Command, RuntimeDefaultProfile]);

        // Control: the launcher really enforces the profile. chroot(2) is allowed there only to a
        // container holding CAP_SYS_CHROOT, so as root it works outside the profile and not inside.
        string chroot = TestEnv.Tool("chroot", "coreutils");
        var outside = await Proc.Run(chroot, ["/", "/bin/true"], TimeSpan.FromSeconds(30));
        Assert.True(outside.ExitCode == 0, outside.ToString());
        var inside = await Proc.Run(launcher.Item1, [.. launcher.Item2, chroot, "/", "/bin/true"], TimeSpan.FromSeconds(30));
        output.WriteLine(inside.ToString());
        Assert.NotEqual(0, inside.ExitCode);
        Assert.Contains("Operation not permitted", inside.StdErr);

        var (cfg, http, tcp, dnsPort) = ProxyConfig();
        using var sc = await ConfinedSidecar.Start(cfg, output, [], launcher);
        Assert.Contains("launcher: " + RuntimeDefaultProfile + " loaded", sc.Process.Output);
        Assert.Equal(2, ThreadSecurityStatus.Parse(File.ReadAllText($"/proc/{sc.Pid}/status")).SeccompMode);

        await AssertServes(http, tcp, dnsPort, seconds: 2);
    }
}
