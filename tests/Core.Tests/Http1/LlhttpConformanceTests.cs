using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.Core.Tests.Http1;

/// <summary>
/// Runs every strict llhttp fixture through our head parser + chunked decoder and compares the
/// outcome (accept/reject and where, start line, fields, body, trailers). Lenient-mode fixtures
/// test llhttp opt-in leniencies, which a strict proxy must not have: we require rejection.
/// </summary>
public sealed class LlhttpConformanceTests
{
    /// <summary>Strict cases on which we agree with llhttp; a change here is a behaviour change, so it is pinned.</summary>
    private const int ExpectedAgree = 187;

    private static readonly Lazy<List<LlhttpCase>> Corpus = new(LlhttpCorpus.Load);
    private readonly ITestOutputHelper _out;

    public LlhttpConformanceTests(ITestOutputHelper output) => _out = output;

    private static ParseTranscript Ours(LlhttpCase c, byte[] input, int[] cuts) =>
        Http1TestDriver.Run(input, c.IsRequest, c.IsFinish, cuts, tolerateMissingHost: true);

    [Fact]
    public void StrictCasesAgreeOrAreDocumentedDivergences()
    {
        List<LlhttpCase> strict = Corpus.Value.Where(c => !c.IsLenient).ToList();
        int agree = 0, divergent = 0, missingHost = 0;
        var failures = new StringBuilder();
        foreach (LlhttpCase c in strict)
        {
            ParseTranscript expected = LlhttpLog.ToTranscript(c);
            ParseTranscript ours = Ours(c, c.Input, []);
            // pause/skipBody are llhttp API features: only the parse result (error or not) is compared.
            bool same = c.Pause || c.SkipBody
                ? expected.IsError == ours.IsError
                : expected.Canonical() == ours.Canonical();
            string? problem;
            if (LlhttpDivergences.Expected.TryGetValue(c.Key, out Divergence d))
            {
                problem = same ? "now agrees: remove it from LlhttpDivergences" : CheckDivergence(c, d, expected, ours);
                if (problem is null) divergent++;
            }
            else
            {
                problem = same ? null : "differs";
                if (problem is null)
                {
                    agree++;
                    missingHost += ours.MissingHost;
                }
            }
            if (problem is not null) AppendFailure(failures, c, problem, expected, ours);
        }
        int failed = strict.Count - agree - divergent;
        _out.WriteLine($"llhttp: {agree} agree, {divergent} documented divergences, {failed} failed of {strict.Count} strict cases "
            + $"({missingHost} agreeing requests lack Host: accepted by llhttp, 400 from us per RFC 9112 §3.2)");
        foreach ((string key, Divergence div) in LlhttpDivergences.Expected) _out.WriteLine($"  divergence {div.Kind}: {key}: {div.Reason}");
        if (failures.Length > 0) _out.WriteLine(failures.ToString());
        Assert.True(failed == 0, failures.ToString());
        Assert.Equal(ExpectedAgree, agree);
        Assert.Equal(LlhttpDivergences.Expected.Count, divergent);
    }

    private static string? CheckDivergence(LlhttpCase c, Divergence d, ParseTranscript expected, ParseTranscript ours)
    {
        switch (d.Kind)
        {
            case DivergenceKind.Stricter:
                return ours.IsError && !expected.IsError ? null : "listed as Stricter but we do not reject where llhttp accepts";
            case DivergenceKind.MorePermissive:
                return !ours.IsError && expected.IsError ? null : "listed as MorePermissive but we do not accept where llhttp rejects";
            default:
                byte[] completed = [.. c.Input, .. "\r\n\r\n"u8];
                ParseTranscript finished = Ours(c, completed, []);
                return expected.IsError && ours.End == TranscriptEnd.Open && finished.IsError && finished.EndMessage == expected.EndMessage
                    ? null
                    : "listed as LineGranular but completing the line does not make us reject the same message";
        }
    }

    /// <summary>
    /// Resumability: every strict input (except noScan) delivered in two reads split at each byte
    /// boundary, the second read seeing a two-segment sequence, must give the unsplit result.
    /// </summary>
    [Fact]
    public void EverySplitPointGivesTheSameResult()
    {
        int checkedSplits = 0;
        var failures = new StringBuilder();
        foreach (LlhttpCase c in Corpus.Value.Where(c => !c.NoScan))
        {
            string whole = Ours(c, c.Input, []).Describe();
            for (int cut = 0; cut <= c.Input.Length; cut++)
            {
                string split = Ours(c, c.Input, [cut]).Describe();
                checkedSplits++;
                if (split != whole)
                {
                    failures.Append(c.Key).Append(" split at ").Append(cut).Append("\n  whole: ").Append(whole)
                        .Append("\n  split: ").Append(split).Append('\n');
                    break;
                }
            }
            // And the extreme: one byte per segment, all delivered at once.
            string perByte = DescribePerByte(c);
            if (perByte != whole) failures.Append(c.Key).Append(" one byte per segment\n  whole: ").Append(whole).Append("\n  bytes: ").Append(perByte).Append('\n');
        }
        _out.WriteLine($"split check: {checkedSplits} splits of {Corpus.Value.Count(c => !c.NoScan)} inputs");
        Assert.True(failures.Length == 0, failures.ToString());
    }

    private static string DescribePerByte(LlhttpCase c)
    {
        int[] cuts = Enumerable.Range(1, Math.Max(0, c.Input.Length - 1)).ToArray();
        // Deliver everything as one read over n segments: cuts define segments, not reads.
        return Http1TestDriver.Run(c.Input, c.IsRequest, c.IsFinish, cuts, tolerateMissingHost: true, singleRead: true).Describe();
    }

    [Fact]
    public void LenientOnlyInputsAreRejected()
    {
        var failures = new StringBuilder();
        int rejected = 0, documented = 0, total = 0;
        foreach (LlhttpCase c in Corpus.Value.Where(c => c.IsLenient))
        {
            total++;
            ParseTranscript ours = Ours(c, c.Input, []);
            if (!ours.IsError && EndsInsideHeadLine(c, ours))
            {
                // Line-granular: the offending line has no LF in the input; complete it and look again.
                ours = Ours(c, [.. c.Input, .. "\r\n\r\n"u8], []);
            }
            bool listed = LlhttpDivergences.LenientAccepted.ContainsKey(c.Key);
            if (ours.IsError && !listed) rejected++;
            else if (!ours.IsError && listed) documented++;
            else failures.Append(listed ? "now rejected, unlist: " : "accepted: ").Append(c.Key).Append(" (").Append(c.Type).Append(")\n  ")
                .Append(ours.Describe()).Append('\n');
        }
        _out.WriteLine($"llhttp lenient: {rejected} rejected, {documented} documented as valid input, of {total}");
        Assert.True(failures.Length == 0, failures.ToString());
    }

    private static bool EndsInsideHeadLine(LlhttpCase c, ParseTranscript ours) =>
        ours.End == TranscriptEnd.Open && (ours.Messages.Count == 0 || ours.Messages[^1].Complete) && !c.Input.AsSpan().EndsWith("\n"u8);

    private static void AppendFailure(StringBuilder sb, LlhttpCase c, string problem, ParseTranscript expected, ParseTranscript ours)
    {
        sb.Append(problem).Append(": ").Append(c.Key).Append('\n');
        sb.Append("  llhttp: ").Append(expected.Describe().Replace("\n", "\n          ", StringComparison.Ordinal)).Append('\n');
        sb.Append("  ours:   ").Append(ours.Describe().Replace("\n", "\n          ", StringComparison.Ordinal)).Append('\n');
    }
}
