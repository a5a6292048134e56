using System.Text;

namespace Sidecar.Core.Telemetry;

/// <summary>
/// Every statistic by its Envoy name. Stats are created when config is applied (never per request)
/// and survive config reloads with the same name, as in Envoy, so counters keep counting.
/// </summary>
public sealed class StatsStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Gauge> _gauges = new(StringComparer.Ordinal);

    public Counter Counter(string name)
    {
        lock (_lock)
        {
            if (!_counters.TryGetValue(name, out Counter? c)) _counters[name] = c = new Counter(name);
            return c;
        }
    }

    public Gauge Gauge(string name)
    {
        lock (_lock)
        {
            if (!_gauges.TryGetValue(name, out Gauge? g)) _gauges[name] = g = new Gauge(name);
            return g;
        }
    }

    /// <summary>Envoy's <c>/stats</c> text format: "name: value" lines sorted by name.</summary>
    public string RenderText(string? filter = null)
    {
        var lines = new List<KeyValuePair<string, long>>();
        lock (_lock)
        {
            foreach (var kv in _counters) lines.Add(new(kv.Key, kv.Value.Value));
            foreach (var kv in _gauges) lines.Add(new(kv.Key, kv.Value.Value));
        }
        lines.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var sb = new StringBuilder(lines.Count * 48);
        foreach (var kv in lines)
        {
            if (filter is not null && !kv.Key.Contains(filter, StringComparison.Ordinal)) continue;
            sb.Append(kv.Key).Append(": ").Append(kv.Value).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// Prometheus text exposition with Envoy's naming: "envoy_" prefix, dots to underscores, and the
    /// well-known tag extraction for cluster and listener/connection-manager prefixes.
    /// </summary>
    public string RenderPrometheus()
    {
        var counters = new List<KeyValuePair<string, long>>();
        var gauges = new List<KeyValuePair<string, long>>();
        lock (_lock)
        {
            foreach (var kv in _counters) counters.Add(new(kv.Key, kv.Value.Value));
            foreach (var kv in _gauges) gauges.Add(new(kv.Key, kv.Value.Value));
        }
        var sb = new StringBuilder();
        Append(sb, counters, "counter");
        Append(sb, gauges, "gauge");
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, List<KeyValuePair<string, long>> stats, string type)
    {
        var byMetric = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var kv in stats)
        {
            (string metric, string labels) = PrometheusName.Split(kv.Key);
            if (!byMetric.TryGetValue(metric, out var list)) byMetric[metric] = list = [];
            list.Add(labels.Length == 0 ? $"{metric} {kv.Value}" : $"{metric}{{{labels}}} {kv.Value}");
        }
        foreach (var kv in byMetric)
        {
            sb.Append("# TYPE ").Append(kv.Key).Append(' ').Append(type).Append('\n');
            foreach (string line in kv.Value) sb.Append(line).Append('\n');
        }
    }
}

/// <summary>Envoy's default tag extraction for the stats we emit (cluster.X., http.X., listener.X.).</summary>
internal static class PrometheusName
{
    public static (string Metric, string Labels) Split(string name)
    {
        if (TryPrefix(name, "cluster.", "envoy_cluster_name", "envoy_cluster_", out var r)) return r;
        if (TryPrefix(name, "http.", "envoy_http_conn_manager_prefix", "envoy_http_", out r)) return r;
        if (TryPrefix(name, "tcp.", "envoy_tcp_prefix", "envoy_tcp_", out r)) return r;
        if (TryPrefix(name, "listener.", "envoy_listener_address", "envoy_listener_", out r)) return r;
        return ("envoy_" + Sanitize(name), "");
    }

    private static bool TryPrefix(string name, string prefix, string label, string metricPrefix, out (string, string) result)
    {
        result = default;
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return false;
        string rest = name[prefix.Length..];
        int dot = rest.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0) return false;
        result = (metricPrefix + Sanitize(rest[(dot + 1)..]), $"{label}=\"{rest[..dot]}\"");
        return true;
    }

    private static string Sanitize(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s) sb.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        return sb.ToString();
    }
}
