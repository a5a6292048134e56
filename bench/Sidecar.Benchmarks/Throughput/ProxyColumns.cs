using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Sidecar.Benchmarks.Throughput;

/// <summary>
/// "Proxy CPU µs/req": the proxy process's utime+stime over every batch BenchmarkDotNet ran (pilot,
/// warm-up and measured) ÷ the requests in them. GlobalCleanup writes it to a file so the column also
/// works when the benchmark ran in a child process.
/// </summary>
internal sealed class ProxyCpuColumn : IColumn
{
    private static readonly string Dir = Path.Combine(Path.GetTempPath(), "sidecar-bdn-throughput");
    private static readonly long ClockTicksPerSecond = 100; // USER_HZ on Linux x86-64 (sysconf(_SC_CLK_TCK))

    public static void Record(string proxy, long ticks, long requests)
    {
        Directory.CreateDirectory(Dir);
        var us = requests == 0 ? double.NaN : ticks * 1e6 / ClockTicksPerSecond / requests;
        File.WriteAllText(Path.Combine(Dir, proxy), us.ToString("R", CultureInfo.InvariantCulture));
    }

    public static double? Read(string proxy)
    {
        var path = Path.Combine(Dir, proxy);
        return File.Exists(path) && double.TryParse(File.ReadAllText(path), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : null;
    }

    public string Id => "ProxyCpuUsPerRequest";
    public string ColumnName => "Proxy CPU µs/req";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "CPU time of the proxy process per request (utime+stime from /proc/<pid>/stat)";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        Read(benchmarkCase.Parameters["Proxy"]?.ToString() ?? "") is { } v ? v.ToString("0.00", CultureInfo.InvariantCulture) : "?";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
}

/// <summary>"× HAProxy": the mean time per batch relative to HAProxy's in the same summary (lower is faster).</summary>
internal sealed class RatioToHaproxyColumn : IColumn
{
    public string Id => "RatioToHaproxy";
    public string ColumnName => "× HAProxy";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Mean time per request relative to HAProxy 2.6 in the same run";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var mine = summary[benchmarkCase]?.ResultStatistics?.Mean;
        var haproxy = summary.BenchmarksCases
            .Where(c => c.Descriptor == benchmarkCase.Descriptor && c.Parameters["Proxy"]?.ToString() == "haproxy")
            .Select(c => summary[c]?.ResultStatistics?.Mean)
            .FirstOrDefault();
        return mine is { } m && haproxy is { } h && h > 0 ? (m / h).ToString("0.00", CultureInfo.InvariantCulture) : "?";
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
}
