using System.Text;
using Sidecar.Core.Telemetry;
using Sidecar.Core.Xds.Integration;

namespace Sidecar.Admin;

/// <summary>The admin endpoints, named and shaped as Envoy's so existing tooling and probes work.</summary>
internal sealed class AdminHandlers
{
    private readonly StatsStore _stats;
    private readonly Func<bool, ConfigDumpSource> _configDump;
    private readonly Func<ServerState> _state;
    private readonly Action _quit;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly Gauge _memoryAllocated;
    private readonly Gauge _allocatedTotal;

    private readonly Func<Sidecar.Core.Listeners.ListenerManager?> _topology;

    /// <param name="configDump">What /config_dump shows now (the argument: include endpoints).</param>
    public AdminHandlers(StatsStore stats, Func<bool, ConfigDumpSource> configDump, Func<ServerState> state, Action quit,
        Func<Sidecar.Core.Listeners.ListenerManager?>? topology = null)
    {
        _topology = topology ?? (static () => null);
        _stats = stats;
        // Envoy's server.memory_allocated (heap in use); ours also reports bytes allocated since start, which is
        // how the bench measures allocations per request from outside the process.
        _memoryAllocated = stats.Gauge("server.memory_allocated");
        _allocatedTotal = stats.Gauge("server.gc_allocated_bytes_total");
        _configDump = configDump;
        _state = state;
        _quit = quit;
    }

    public Task<AdminResponse> HandleAsync(string method, string target)
    {
        int q = target.IndexOf('?', StringComparison.Ordinal);
        string path = q < 0 ? target : target[..q];
        string query = q < 0 ? "" : target[(q + 1)..];
        if (path.StartsWith("/stats", StringComparison.Ordinal))
        {
            _memoryAllocated.Set(GC.GetTotalMemory(forceFullCollection: false));
            _allocatedTotal.Set(GC.GetTotalAllocatedBytes(precise: false));
        }
        AdminResponse r = path switch
        {
            "/ready" => _state() == ServerState.Live
                ? new AdminResponse(200, "text/plain; charset=UTF-8", "LIVE\n")
                : new AdminResponse(503, "text/plain; charset=UTF-8", _state() == ServerState.Draining ? "DRAINING\n" : "PRE_INITIALIZING\n"),
            "/server_info" => new AdminResponse(200, "application/json", ServerInfo()),
            "/stats" => query.Contains("format=prometheus", StringComparison.Ordinal)
                ? new AdminResponse(200, "text/plain; version=0.0.4", _stats.RenderPrometheus())
                : new AdminResponse(200, "text/plain; charset=UTF-8", _stats.RenderText(Filter(query))),
            "/stats/prometheus" => new AdminResponse(200, "text/plain; version=0.0.4", _stats.RenderPrometheus()),
            "/config_dump" => ConfigDump(query),
            "/listeners" => Topology(AdminTopology.Listeners(_topology(), Json(query)), query),
            "/clusters" => new AdminResponse(200, Json(query) ? "application/json" : "text/plain; charset=UTF-8", "",
                output => AdminTopology.WriteClustersAsync(output, _topology(), Json(query))),
            "/quitquitquit" when method == "POST" => Quit(),
            "/quitquitquit" => new AdminResponse(405, "text/plain", "method not allowed: use POST\n"),
            "/" or "/help" => new AdminResponse(200, "text/plain", Help),
            _ => new AdminResponse(404, "text/plain", "invalid path. admin commands are:\n" + Help),
        };
        return Task.FromResult(r);
    }

    /// <summary>
    /// The dump, narrowed by Envoy's <c>resource</c> and <c>mask</c> parameters when given; a refused query is answered
    /// before anything is written, the page itself is written as it is produced (<see cref="ConfigDumpWriter"/>).
    /// </summary>
    private AdminResponse ConfigDump(string query)
    {
        (string? resource, string? mask) = ConfigDumpFilter.ParseQuery(query);
        (int status, string? error, string[]? paths) = ConfigDumpFilter.Check(resource, mask);
        if (error is not null) return new AdminResponse(status, "text/plain", error);
        ConfigDumpSource source = _configDump(query.Contains("include_eds", StringComparison.Ordinal));
        return new AdminResponse(200, "application/json", "", output => ConfigDumpWriter.WriteAsync(output, source, resource, paths));
    }

    private static bool Json(string query) => query.Contains("format=json", StringComparison.Ordinal);

    private static AdminResponse Topology(string body, string query) =>
        new(200, Json(query) ? "application/json" : "text/plain; charset=UTF-8", body);

    private AdminResponse Quit()
    {
        _quit();
        return new AdminResponse(200, "text/plain", "OK\n");
    }

    private static string? Filter(string query)
    {
        foreach (string part in query.Split('&'))
        {
            if (part.StartsWith("filter=", StringComparison.Ordinal)) return Uri.UnescapeDataString(part[7..]);
        }
        return null;
    }

    private string ServerInfo()
    {
        var sb = new StringBuilder();
        long uptime = (long)(DateTimeOffset.UtcNow - _started).TotalSeconds;
        sb.Append("{\n \"version\": \"").Append(Version.Text).Append("\",\n");
        sb.Append(" \"state\": \"").Append(_state() switch { ServerState.Live => "LIVE", ServerState.Draining => "DRAINING", _ => "PRE_INITIALIZING" }).Append("\",\n");
        sb.Append(" \"uptime_current_epoch\": \"").Append(uptime).Append("s\",\n");
        sb.Append(" \"uptime_all_epochs\": \"").Append(uptime).Append("s\",\n");
        sb.Append(" \"command_line_options\": {\n  \"concurrency\": ").Append(WorkerThreads.Concurrency).Append("\n }\n}\n");
        return sb.ToString();
    }

    private const string Help =
        "  /: this help\n  /config_dump: dump current config (?include_eds, ?resource=FIELD, ?mask=PATHS)\n  /quitquitquit: exit the server (POST)\n"
        + "  /ready: print server state, return 200 if LIVE, otherwise 503\n  /server_info: print server version/status information\n"
        + "  /stats: print server stats (?filter=REGEX-free substring, ?format=prometheus)\n  /stats/prometheus: print server stats in prometheus format\n"
        + "  /listeners: listeners and their addresses (?format=json)\n  /clusters: upstream hosts per cluster (?format=json)\n";
}

internal enum ServerState { Initializing, Live, Draining }
