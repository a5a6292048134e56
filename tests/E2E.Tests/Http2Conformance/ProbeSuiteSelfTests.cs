using Xunit;

namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>The probe suite itself: it fails against broken servers, and its HPACK bits match RFC 7541's examples.</summary>
public sealed class ProbeSuiteSelfTests
{
    [Fact]
    public async Task Every_probe_but_the_invalid_preface_one_fails_against_a_server_that_hangs_up()
    {
        await using var server = new FakeH2Server(FakeH2Server.Behaviour.HangUp);
        var report = await ConformanceRunner.Run(ConformanceTarget.Loopback(server.Port), TimeSpan.FromMilliseconds(500));
        Assert.Equal(ConformanceRunner.Catalog().Count, report.Outcomes.Count);
        // http2/3.5/2 expects exactly this: a close after an invalid preface
        Assert.Equal(["http2/3.5/2"], report.Outcomes.Where(o => o.Result.Passed).Select(o => o.Probe.Id));
    }

    [Fact]
    public async Task Error_probes_fail_against_a_server_that_ignores_errors()
    {
        await using var server = new FakeH2Server(FakeH2Server.Behaviour.IgnoresErrors);
        var report = await ConformanceRunner.Run(ConformanceTarget.Loopback(server.Port), TimeSpan.FromMilliseconds(300), only: "http2/6.5");
        // passes only where ignoring is right: an unknown setting (6.5.2/5) and the SETTINGS ACK (6.5.3/2)
        Assert.Equal(["http2/6.5.2/5", "http2/6.5.3/2"], report.Outcomes.Where(o => o.Result.Passed).Select(o => o.Probe.Id));
        Assert.Equal(10, report.Outcomes.Count);
        Assert.All(report.Failures, o => Assert.StartsWith("timeout", o.Result.Actual.Split("; ")[^1], StringComparison.Ordinal));
    }

    [Fact]
    public void Catalog_ids_are_unique_and_cover_the_h2spec_groups()
    {
        var ids = ConformanceRunner.Catalog().Select(p => p.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.True(ids.Count >= 146, $"{ids.Count} probes");
        foreach (var group in new[] { "generic/", "http2/", "hpack/" }) Assert.Contains(ids, id => id.StartsWith(group, StringComparison.Ordinal));
    }

    [Fact]
    public void Hpack_integers_and_literals_match_rfc7541_examples()
    {
        var o = new List<byte>();
        ProbeHpack.AppendInteger(o, 0x00, 5, 10);   // C.1.1
        ProbeHpack.AppendInteger(o, 0x00, 5, 1337); // C.1.2
        ProbeHpack.AppendInteger(o, 0x00, 8, 42);   // C.1.3
        Assert.Equal(new byte[] { 0x0a, 0x1f, 0x9a, 0x0a, 0x2a }, o.ToArray());
        // C.2.2 is without indexing with an indexed name; ours always sends a new name: 0x00, len, name, len, value
        Assert.Equal(new byte[] { 0x00, 5, (byte)':', (byte)'p', (byte)'a', (byte)'t', (byte)'h', 1, (byte)'/' },
            ProbeHpack.Encode([(":path", "/")]));
        Assert.Equal(new byte[] { 0x3f, 0xe1, 0x1f }, ProbeHpack.TableSizeUpdate(4096));
    }

    [Theory]
    [InlineData(new byte[] { 0x88 }, 200)]                                  // indexed :status 200
    [InlineData(new byte[] { 0x8d }, 404)]                                  // indexed :status 404
    [InlineData(new byte[] { 0x48, 0x03, 0x33, 0x30, 0x32 }, 302)]          // RFC 7541 C.5.1: literal, incremental indexing, "302"
    [InlineData(new byte[] { 0x48, 0x82, 0x64, 0x02 }, 302)]                // RFC 7541 C.6.1: same, Huffman "302"
    [InlineData(new byte[] { 0x48, 0x83, 0x6c, 0x0c, 0xff }, 503)]          // Huffman "503": 011011 00000 011001, then 1s
    [InlineData(new byte[] { 0x3f, 0xe1, 0x1f, 0x88 }, 200)]                // size update first
    [InlineData(new byte[] { 0xbe }, null)]                                 // dynamic-table reference: unknown, not guessed
    public void Status_is_read_from_the_first_field_of_a_response_block(byte[] block, int? status) =>
        Assert.Equal(status, ResponseStatus.TryRead(new H2Frame(FrameType.Headers, FrameFlags.EndHeaders, 1, block)));
}
