using Sidecar.Core.Hpack;
using Xunit;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>
/// Every encoded story in ../shared/conformance/hpack decodes to exactly its expected header list, one decoder per
/// story (the dynamic table carries across cases), applying each case's SETTINGS_HEADER_TABLE_SIZE first.
/// </summary>
public sealed class HpackConformanceTests
{
    public static IEnumerable<object[]> Stories() => HpackStoryFile.EncodedStories();

    [Fact]
    public void CorpusIsPresent()
    {
        Assert.True(Directory.Exists(HpackTestData.HpackConformance), $"conformance material not found at {HpackTestData.HpackConformance} (../shared beside the repo)");
        Assert.True(Stories().Count() >= 250, "expected the encoded stories described in SOURCES.md (263 here)");
        Assert.Equal(32, HpackStoryFile.RawStories().Count());
    }

    [Theory]
    [MemberData(nameof(Stories))]
    public void StoryDecodesExactly(string story)
    {
        List<StoryCase> cases = HpackStoryFile.Load(Path.Combine(HpackTestData.HpackConformance, story));
        Assert.NotEmpty(cases);
        using var decoder = new HpackDecoder(maxHeaderListSize: 1 << 20);
        foreach (StoryCase c in cases)
        {
            if (c.HeaderTableSize is int size) decoder.MaxDynamicTableSize = size;
            Assert.NotNull(c.Wire);
            var sink = new HeaderCollector();
            HpackStatus status = decoder.Decode(c.Wire, endHeaders: true, sink);
            Assert.True(status == HpackStatus.Ok, $"{story} seqno {c.Seqno}: {status}");
            Assert.Equal(c.Headers, HpackTestData.WithoutFlags(sink.Fields));
        }
    }

    [Theory]
    [MemberData(nameof(Stories))]
    public void StoryDecodesFromPerByteSequences(string story)
    {
        // The same corpus through the ReadOnlySequence overload, one segment per byte, each block as 3 fragments.
        List<StoryCase> cases = HpackStoryFile.Load(Path.Combine(HpackTestData.HpackConformance, story));
        using var decoder = new HpackDecoder(maxHeaderListSize: 1 << 20);
        foreach (StoryCase c in cases.Take(40))
        {
            if (c.HeaderTableSize is int size) decoder.MaxDynamicTableSize = size;
            byte[] wire = c.Wire!;
            int a = wire.Length / 3, b = 2 * wire.Length / 3;
            var sink = new HeaderCollector();
            Assert.Equal(HpackStatus.Ok, decoder.Decode(Http1.TestSequence.PerByte(wire[..a]), endHeaders: false, sink));
            Assert.Equal(HpackStatus.Ok, decoder.Decode(Http1.TestSequence.PerByte(wire[a..b]), endHeaders: false, sink));
            Assert.Equal(HpackStatus.Ok, decoder.Decode(Http1.TestSequence.PerByte(wire[b..]), endHeaders: true, sink));
            Assert.Equal(c.Headers, HpackTestData.WithoutFlags(sink.Fields));
        }
    }
}
