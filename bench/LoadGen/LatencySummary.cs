using HdrHistogram;

namespace Sidecar.Bench.LoadGen;

/// <summary>Percentiles of a histogram of microsecond values, as written to the JSON report.</summary>
internal readonly record struct LatencySummary(long Count, double Mean, long P50, long P90, long P99, long P999, long Max)
{
    /// <summary>Highest value a histogram accepts: 60 s in µs; larger values are clamped to it.</summary>
    public const long HighestTrackableUs = 60_000_000;

    /// <summary>3 significant digits: values are exact to 0.1 % (1 µs below 1 ms).</summary>
    public static LongHistogram NewHistogram() => new(1, HighestTrackableUs, 3);

    public static void Record(LongHistogram h, long microseconds) =>
        h.RecordValue(Math.Clamp(microseconds, 1, HighestTrackableUs));

    public static LatencySummary From(HistogramBase h) => h.TotalCount == 0
        ? default
        : new LatencySummary(h.TotalCount, h.GetMean(), h.GetValueAtPercentile(50), h.GetValueAtPercentile(90),
            h.GetValueAtPercentile(99), h.GetValueAtPercentile(99.9), h.GetMaxValue());
}
