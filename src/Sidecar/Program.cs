using Sidecar.Core.Config;

namespace Sidecar;

/// <summary>Command line: <c>proxy</c>, <c>validate</c>, <c>version</c>. No logic beyond argument handling.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        string command = args.Length > 0 ? args[0] : "help";
        switch (command)
        {
            case "version":
            case "--version":
                Console.WriteLine(Version.Text);
                return 0;
            case "validate":
                return args.Length == 2 ? Validate(args[1]) : Usage();
            case "proxy":
                return await RunProxyAsync(args.AsSpan(1).ToArray());
            case "istio-iptables":
                return Commands.CaptureCommands.IstioIptables(args.AsSpan(1).ToArray());
            case "istio-clean-iptables":
                return Commands.CaptureCommands.IstioCleanIptables(args.AsSpan(1).ToArray());
            case "confinement-check":
                return args.Length == 1 ? ConfinementCheck.Run() : Usage();
            default:
                return Usage();
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("""
            usage:
              sidecar proxy [--config FILE] [--xds HOST:PORT] [--concurrency N] [--drain-time-s N] [--seccomp]
                                                 run the proxy (embedded default config without --config);
                                                 --seccomp (or SIDECAR_SECCOMP=1): drop capabilities, seccomp allow-list;
                                                 --xds (or XDS_ADDRESS, or a bootstrap with dynamic_resources): ADS to istiod
              sidecar confinement-check                          confine as --seccomp does, check exec is refused
              sidecar istio-iptables [flags]                     install Istio's nftables capture rules (docs/CAPTURE.md)
              sidecar istio-clean-iptables [flags]               remove them
              sidecar validate FILE                              check a config; prints each problem with its field path
              sidecar version                                    print the version
            """);
        return 2;
    }

    private static int Validate(string path)
    {
        var result = ConfigLoader.LoadFile(path);
        if (result.IsSuccess)
        {
            Console.WriteLine($"{path}: OK");
            return 0;
        }
        foreach (var e in result.Errors) Console.WriteLine(ConfigErrorFormatter.FormatOne(e));
        Console.Error.WriteLine($"{path}: {result.Errors.Length} error(s)");
        return 1;
    }

    private static async Task<int> RunProxyAsync(string[] args)
    {
        string? configPath = null;
        string? xdsAddress = Environment.GetEnvironmentVariable("XDS_ADDRESS");
        double drainSeconds = 5;
        // One event-loop thread by default (see WorkerThreads for the measurement); 0 selects the .NET thread pool.
        int concurrency = 1;
        bool confine = Confinement.RequestedByEnvironment;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--config" or "-c" when i + 1 < args.Length:
                    configPath = args[++i];
                    break;
                case "--xds" when i + 1 < args.Length:
                    xdsAddress = args[++i];
                    break;
                case "--concurrency" when i + 1 < args.Length && int.TryParse(args[i + 1], out int workers) && workers >= 0:
                    concurrency = workers;
                    i++;
                    break;
                case "--drain-time-s" when i + 1 < args.Length && double.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out double d):
                    drainSeconds = d;
                    i++;
                    break;
                case "--seccomp":
                    confine = true;
                    break;
                default:
                    return Usage();
            }
        }
        WorkerThreads.Configure(concurrency);
        var (loaded, tree, usesAds) = configPath is null ? ConfigLoader.LoadForProxy(DefaultConfig.Text, isJson: false) : ConfigLoader.LoadFileForProxy(configPath);
        if (!loaded.IsSuccess)
        {
            foreach (var e in loaded.Errors) Console.Error.WriteLine(ConfigErrorFormatter.FormatOne(e));
            Console.Error.WriteLine($"{configPath ?? "embedded default config"}: rejected ({loaded.Errors.Length} error(s))");
            return 1;
        }
        // Before the host exists: it starts the threads that would otherwise keep the capabilities.
        // TPROXY listeners (transparent: true) keep CAP_NET_ADMIN/NET_RAW for IP_TRANSPARENT.
        bool transparent = loaded.Value!.Listeners.Any(l => l.Transparent);
        Confinement? confinement = confine
            ? Confinement.DropCapabilities(Confinement.NeededAfterStart(loaded.Value!, Sidecar.Core.Transport.TransportSettings.FromEnvironment(), transparent))
            : null;
        // xDS when the bootstrap has dynamic_resources (istio-agent's) or --xds/XDS_ADDRESS names istiod.
        XdsSettings? xds = (usesAds || xdsAddress is not null) && tree is not null
            ? new XdsSettings(tree, string.IsNullOrEmpty(xdsAddress) ? XdsSettings.DefaultAddress : xdsAddress)
            : null;
        await using var host = new SidecarHost(loaded.Value!, TimeSpan.FromSeconds(drainSeconds), confinement, xds);
        return await host.RunAsync();
    }
}
