namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// One conformance check, named like h2spec's: <c>group/section/n</c> (e.g. "http2/6.5.3/2"), where group is
/// "generic", "http2" (RFC 9113, numbered by RFC 7540 sections as h2spec does) or "hpack" (RFC 7541).
/// </summary>
public sealed record Probe(string Id, string Description, Func<ProbeSession, Task<ProbeResult>> Run)
{
    /// <summary>"http2/6.5.3" for "http2/6.5.3/2".</summary>
    public string Section => Id[..Id.LastIndexOf('/')];
}

/// <summary>The verdict of a probe; on failure, what was accepted and what was seen.</summary>
public sealed record ProbeResult(bool Passed, string Expected, string Actual)
{
    public static ProbeResult Pass(string expected, string actual) => new(true, expected, actual);
    public static ProbeResult Fail(string expected, string actual) => new(false, expected, actual);
}

/// <summary>Thrown by a step that must succeed before the probe's real check (handshake, an intermediate expectation).</summary>
public sealed class ProbeStepFailedException(ProbeResult result) : Exception($"expected {result.Expected}, saw {result.Actual}")
{
    public ProbeResult Result { get; } = result;
}

/// <summary>Collects probes into an ordered catalog; section helpers keep the numbering h2spec-like.</summary>
public sealed class ProbeCatalog
{
    private readonly List<Probe> _probes = [];
    private readonly Dictionary<string, int> _counters = [];
    public IReadOnlyList<Probe> All => _probes;

    /// <summary>Adds a probe as the next number in <paramref name="section"/>.</summary>
    public ProbeCatalog Add(string section, string description, Func<ProbeSession, Task<ProbeResult>> run)
    {
        var n = _counters.TryGetValue(section, out var c) ? c + 1 : 1;
        _counters[section] = n;
        _probes.Add(new Probe($"{section}/{n}", description, run));
        return this;
    }
}

/// <summary>Payloads shared by many probes.</summary>
public static class ProbeBytes
{
    /// <summary>An all-zero PING payload (§6.7 requires exactly 8 octets).</summary>
    public static readonly byte[] Zero8 = new byte[8];
    /// <summary>A small request body ("test", as h2spec sends).</summary>
    public static readonly byte[] Test = "test"u8.ToArray();
}
