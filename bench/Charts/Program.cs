using System.Text.Json;
using ScottPlot;

namespace Sidecar.Bench.Charts;

/// <summary>
/// charts RESULT.json OUT_PREFIX: reads a bench/run.py result and writes PNG bar charts
/// (OUT_PREFIX-cpu.png, -cpu-1m.png, -latency-RATE.png, -rss.png, -idle-conn.png), printing each path.
/// Bars are medians; error bars span half the min–max range of the repetitions.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 2 || !File.Exists(args[0]))
        {
            Console.Error.WriteLine("usage: charts RESULT.json OUT_PREFIX");
            return 2;
        }
        using var doc = JsonDocument.Parse(File.ReadAllText(args[0]));
        var result = new BenchResult(doc.RootElement);
        var prefix = args[1];
        var written = new List<string?>();
        var title = $"{result.Mode} run {result.Started} on {result.Host}";

        using var cpu = new GroupedBars("Proxy CPU per request, µs (lower is better)", title);
        foreach (var scenario in new[] { "hello", "1k", "close" })
        {
            cpu.AddGroup(scenario, result.ProxyTargets, t => result.Wrk(scenario, t, "cpu_us_per_req"));
        }
        written.Add(cpu.Save(prefix + "-cpu.png"));

        using var big = new GroupedBars("Proxy CPU per 1 MiB response, µs (lower is better)", title);
        big.AddGroup("1m", result.ProxyTargets, t => result.Wrk("1m", t, "cpu_us_per_req"));
        written.Add(big.Save(prefix + "-cpu-1m.png"));

        foreach (var rate in result.Rates)
        {
            using var lat = new GroupedBars($"Latency at {rate} req/s (open loop, from intended send), µs", title);
            foreach (var (q, name) in new[] { ("p50_us", "p50"), ("p90_us", "p90"), ("p99_us", "p99"), ("p999_us", "p99.9") })
            {
                lat.AddGroup(name, result.AllTargets, t => result.Latency(rate, t, q));
            }
            written.Add(lat.Save($"{prefix}-latency-{rate}.png"));
        }

        using var rss = new GroupedBars("Resident memory, MB (lower is better)", title);
        rss.AddGroup("idle", result.ProxyTargets, t => result.TargetKb(t, "rss_idle_kb") is { } kb ? new Stat(kb / 1024, kb / 1024, kb / 1024) : null);
        rss.AddGroup("peak under load (1 KiB)", result.ProxyTargets, t => result.Wrk("1k", t, "rss_load_kb") is { } s ? s.Scale(1.0 / 1024) : null);
        written.Add(rss.Save(prefix + "-rss.png"));

        using var idle = new GroupedBars($"RSS per idle connection, bytes ({result.IdleCount:N0} held open)", title);
        idle.AddGroup("per connection", result.ProxyTargets, t => result.Idle(t, "bytes_per_conn"));
        written.Add(idle.Save(prefix + "-idle-conn.png"));

        foreach (var w in written.OfType<string>())
        {
            Console.WriteLine(w);
        }
        return 0;
    }
}

/// <summary>Median and range of the repetitions of one figure.</summary>
internal sealed record Stat(double Median, double Min, double Max)
{
    public Stat Scale(double f) => new(Median * f, Min * f, Max * f);

    public static Stat? From(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var s) && s.ValueKind == JsonValueKind.Object
            ? new Stat(s.GetProperty("median").GetDouble(), s.GetProperty("min").GetDouble(), s.GetProperty("max").GetDouble())
            : null;
}

/// <summary>Read access to the parts of the result JSON the charts use.</summary>
internal sealed class BenchResult(JsonElement root)
{
    private readonly JsonElement _summary = root.GetProperty("summary");

    public string Mode => root.GetProperty("mode").GetString() ?? "?";
    public string Started => root.GetProperty("started").GetString() ?? "?";
    public string Host => root.GetProperty("machine").GetProperty("host").GetString() ?? "?";
    public int IdleCount => root.TryGetProperty("idle_count", out var c) ? c.GetInt32() : 10000;

    public IReadOnlyList<string> AllTargets =>
        root.GetProperty("targets").EnumerateObject().Select(p => p.Name).ToList();

    public IReadOnlyList<string> ProxyTargets => AllTargets.Where(t => t != "direct").ToList();

    public IReadOnlyList<string> Rates =>
        _summary.GetProperty("latency").EnumerateObject().Select(p => p.Name).OrderBy(double.Parse).ToList();

    public Stat? Wrk(string scenario, string target, string metric) => Path(_summary, "wrk", scenario, target, metric);

    public Stat? Latency(string rate, string target, string metric) => Path(_summary, "latency", rate, target, metric);

    public Stat? Idle(string target, string metric) => Path(_summary, "idle", target, metric);

    public double? TargetKb(string target, string field) =>
        root.GetProperty("targets").GetProperty(target).TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble()
            : null;

    private static Stat? Path(JsonElement e, params string[] names)
    {
        for (var i = 0; i < names.Length - 1; i++)
        {
            if (!e.TryGetProperty(names[i], out e) || e.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
        }
        return Stat.From(e, names[^1]);
    }

    /// <summary>The target's display name, shared by every chart so colours match across PNGs.</summary>
    public static int ColorIndex(string target) => target switch
    {
        "direct" => 7,
        "sidecar" => 0,
        "haproxy" => 1,
        "nginx" => 2,
        "yarp" => 3,
        "envoy" => 4,
        _ => 5,
    };
}

/// <summary>Bars grouped by scenario/percentile, one colour per target, legend by target.</summary>
internal sealed class GroupedBars(string title, string subtitle) : IDisposable
{
    private readonly Plot _plot = new();
    private readonly List<Bar> _bars = [];
    private readonly List<(double Position, string Label)> _ticks = [];
    private readonly Dictionary<string, Color> _legend = [];
    private readonly IPalette _palette = new ScottPlot.Palettes.Category10();
    private double _next;

    public void AddGroup(string name, IReadOnlyList<string> targets, Func<string, Stat?> value)
    {
        var start = _next;
        foreach (var t in targets)
        {
            var s = value(t);
            if (s is null)
            {
                continue;
            }
            var color = _palette.GetColor(BenchResult.ColorIndex(t));
            _bars.Add(new Bar { Position = _next, Value = s.Median, Error = (s.Max - s.Min) / 2, FillColor = color });
            _legend.TryAdd(t, color);
            _next += 1;
        }
        if (_next > start)
        {
            _ticks.Add(((start + _next - 1) / 2, name));
            _next += 1; // gap between groups
        }
    }

    /// <summary>Writes the PNG; a chart with no figures (scenario skipped) is not written and yields null.</summary>
    public string? Save(string path)
    {
        if (_bars.Count == 0)
        {
            return null;
        }
        _plot.Add.Bars(_bars);
        _plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            _ticks.Select(t => t.Position).ToArray(), _ticks.Select(t => t.Label).ToArray());
        _plot.Axes.Margins(bottom: 0);
        _plot.Title($"{title}\n{subtitle}");
        foreach (var (target, color) in _legend)
        {
            _plot.Legend.ManualItems.Add(new LegendItem { LabelText = target, FillColor = color });
        }
        _plot.ShowLegend(Alignment.UpperLeft);
        _plot.SavePng(path, 900, 520);
        return path;
    }

    public void Dispose() => _plot.Dispose();
}
