using System.Diagnostics;
using System.Text;

namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>The outcome of one probe run against a target.</summary>
public sealed record ProbeOutcome(Probe Probe, ProbeResult Result, TimeSpan Took);

/// <summary>
/// Runs the whole catalog against a target, one fresh connection per probe, in catalog order, and reports
/// per section ("section x: N passed, M failed"), in total, and every failure with expected vs seen.
/// </summary>
public static class ConformanceRunner
{
    /// <summary>Every probe, grouped as h2spec groups them (generic, http2, hpack), then the RFC 9113 additions.</summary>
    public static IReadOnlyList<Probe> Catalog()
    {
        var c = new ProbeCatalog();
        GenericProbes.AddTo(c);
        Http2StreamProbes.AddTo(c);
        Http2FrameProbes.AddTo(c);
        Http2MessageProbes.AddTo(c);
        HpackProbes.AddTo(c);
        Rfc9113Probes.AddTo(c);
        return c.All;
    }

    /// <param name="only">Run only probes whose id starts with this (e.g. "http2/6.5"); for investigating one section.</param>
    public static async Task<ConformanceReport> Run(ConformanceTarget target, TimeSpan? wait = null, string? only = null)
    {
        var waitTimeout = wait ?? TimeSpan.FromSeconds(2);
        var outcomes = new List<ProbeOutcome>();
        var total = Stopwatch.StartNew();
        foreach (var probe in Catalog())
        {
            if (only != null && !probe.Id.StartsWith(only, StringComparison.Ordinal)) continue;
            var sw = Stopwatch.StartNew();
            ProbeResult result;
            try
            {
                await using var conn = await H2ProbeConnection.Open(target, waitTimeout);
                result = await probe.Run(new ProbeSession(conn));
            }
            catch (ProbeStepFailedException e) { result = e.Result; }
            catch (Exception e) { result = ProbeResult.Fail("probe runs", $"{e.GetType().Name}: {e.Message}"); }
            outcomes.Add(new ProbeOutcome(probe, result, sw.Elapsed));
        }
        return new ConformanceReport(target, outcomes, total.Elapsed);
    }
}

public sealed record ConformanceReport(ConformanceTarget Target, IReadOnlyList<ProbeOutcome> Outcomes, TimeSpan Took)
{
    public IEnumerable<ProbeOutcome> Failures => Outcomes.Where(o => !o.Result.Passed);
    public IReadOnlyList<string> FailedIds => Failures.Select(o => o.Probe.Id).ToList();
    public int Passed => Outcomes.Count(o => o.Result.Passed);

    /// <summary>One line per section in catalog order, then the total.</summary>
    public IEnumerable<string> SummaryLines()
    {
        foreach (var g in Outcomes.GroupBy(o => o.Probe.Section))
            yield return $"section {g.Key}: {g.Count(o => o.Result.Passed)} passed, {g.Count(o => !o.Result.Passed)} failed";
        yield return $"total: {Passed} passed, {Outcomes.Count - Passed} failed ({Outcomes.Count} probes, {Took.TotalSeconds:0.0} s)";
    }

    public IEnumerable<string> FailureLines() =>
        Failures.Select(o => $"FAIL {o.Probe.Id} {o.Probe.Description}\n     expected: {o.Result.Expected}\n     seen:     {o.Result.Actual}");

    public string ToText() => string.Join('\n', SummaryLines().Concat(FailureLines()));

    private static string Cell(string s) => s.Replace("|", "\\|").Replace("\n", " ");

    public string ToMarkdown(string title, IReadOnlyDictionary<string, string>? allowed = null)
    {
        var sb = new StringBuilder();
        sb.Append("# ").Append(title).Append("\n\n");
        sb.Append($"Target `{Target.Host}:{Target.Port}` (:authority `{Target.Authority}`, :path `{Target.Path}`); ")
          .Append($"{Outcomes.Count} probes, {Passed} passed, {Outcomes.Count - Passed} failed, {Took.TotalSeconds:0.0} s.\n\n");
        sb.Append("| section | passed | failed |\n|---|---:|---:|\n");
        foreach (var g in Outcomes.GroupBy(o => o.Probe.Section))
            sb.Append($"| {g.Key} | {g.Count(o => o.Result.Passed)} | {g.Count(o => !o.Result.Passed)} |\n");
        sb.Append("\n## Failures\n\n");
        if (!Failures.Any()) sb.Append("None.\n");
        foreach (var o in Failures)
        {
            sb.Append($"- **{o.Probe.Id}** {o.Probe.Description}\n  - expected: {o.Result.Expected}\n  - seen: {o.Result.Actual}\n");
            if (allowed != null && allowed.TryGetValue(o.Probe.Id, out var why)) sb.Append($"  - allowed: {why}\n");
        }
        sb.Append("\n## All probes\n\n| id | result | description | deciding event |\n|---|---|---|---|\n");
        foreach (var o in Outcomes)
            sb.Append($"| {o.Probe.Id} | {(o.Result.Passed ? "pass" : "FAIL")} | {Cell(o.Probe.Description)} | {Cell(o.Result.Actual)} |\n");
        return sb.ToString();
    }
}
