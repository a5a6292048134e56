using System.Buffers;
using Sidecar.Core.Hpack;
using Xunit;
using static Sidecar.Core.Tests.Hpack.HpackTestData;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>
/// The prepared-name and :status fast paths must write exactly what the general path writes for the same field
/// (same bytes, same table state), so the peer's decoder cannot tell them apart (RFC 7541 §2.2).
/// </summary>
public sealed class HpackFieldNameTests
{
    [Theory]
    [InlineData(200, "88")]
    [InlineData(204, "89")]
    [InlineData(206, "8a")]
    [InlineData(304, "8b")]
    [InlineData(400, "8c")]
    [InlineData(404, "8d")]
    [InlineData(500, "8e")]
    public void StaticStatusCodesAreOneIndexedByte(int status, string expected)
    {
        var encoder = new HpackEncoder();
        var writer = new ArrayBufferWriter<byte>();
        encoder.EncodeStatus(status, writer);
        Assert.Equal(expected, Hex(writer.WrittenSpan));
        Assert.Equal(0, encoder.DynamicTableCount);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(201)]
    [InlineData(302)]
    [InlineData(503)]
    [InlineData(999)]
    public void OtherStatusCodesMatchTheGeneralPathAndDecode(int status) =>
        AssertSameAsGeneralPath((encoder, writer) => encoder.EncodeStatus(status, writer),
            ":status", status.ToString(System.Globalization.CultureInfo.InvariantCulture), neverIndex: false);

    public static TheoryData<string, string, bool> Fields => new()
    {
        { ":method", "GET", false },          // static full match
        { ":method", "PATCH", false },        // static name, literal value
        { ":scheme", "https", false },
        { ":path", "/a/b?c=1", false },       // never added to the table (per-request)
        { ":authority", "svc.ns.svc.cluster.local:8080", false },
        { "server", "envoy", false },
        { "x-envoy-upstream-service-time", "12", false }, // no static name
        { ":authority", "secret.example", true },         // never indexed stays so
    };

    [Theory]
    [MemberData(nameof(Fields))]
    public void PreparedNameWritesWhatTheByteNameWrites(string name, string value, bool neverIndex)
    {
        var prepared = new HpackFieldName(name);
        AssertSameAsGeneralPath((encoder, writer) => encoder.Encode(prepared, Latin1(value), neverIndex, writer), name, value, neverIndex);
    }

    /// <summary>Twice: the second encoding may come from the dynamic table, which both encoders must have filled alike.</summary>
    private static void AssertSameAsGeneralPath(Action<HpackEncoder, ArrayBufferWriter<byte>> encodeFast, string name, string value, bool neverIndex)
    {
        var fast = new HpackEncoder();
        var general = new HpackEncoder();
        using var decoder = new HpackDecoder();
        for (int round = 0; round < 2; round++)
        {
            var a = new ArrayBufferWriter<byte>();
            var b = new ArrayBufferWriter<byte>();
            encodeFast(fast, a);
            general.Encode(Latin1(name), Latin1(value), neverIndex, b);
            Assert.Equal(Hex(b.WrittenSpan), Hex(a.WrittenSpan));
            Assert.Equal([new(name, value, neverIndex)], DecodeBlock(decoder, a.WrittenSpan.ToArray()));
        }
        Assert.Equal(general.DynamicTableCount, fast.DynamicTableCount);
    }

    [Fact]
    public void PreparedNamesMustBeLowerCase() => Assert.Throws<ArgumentException>(() => new HpackFieldName("X-Upper"));

    [Fact]
    public void SharedPreparedNamesCarryTheirStaticIndex()
    {
        // RFC 7541 Appendix A: the first entry of each name.
        var writer = new ArrayBufferWriter<byte>();
        new HpackEncoder().Encode(HpackFieldName.Method, Latin1("POST"), false, writer);
        Assert.Equal("83", Hex(writer.WrittenSpan));
        writer.Clear();
        new HpackEncoder().Encode(HpackFieldName.Scheme, Latin1("http"), false, writer);
        Assert.Equal("86", Hex(writer.WrittenSpan));
        writer.Clear();
        new HpackEncoder().Encode(HpackFieldName.ContentLength, Latin1("13"), false, writer);
        Assert.Equal("0f0d02", Hex(writer.WrittenSpan[..3])); // literal without indexing, name index 28 (15 + 13), raw "13"
    }

    [Fact]
    public void NamesTheEncoderSkipsTheTableForAreNeverIndexedByThePolicy()
    {
        // The encoder skips its dynamic-table scan for these names; that is only sound while Choose never indexes them.
        string[] values = ["", "x", "/a", "a-rather-long-value-of-more-than-twenty-bytes", "12345"];
        int skipped = 0;
        for (int index = 1; index <= HpackStaticTable.Count; index++)
        {
            if (!HpackIndexingPolicy.IsNeverIndexedName(index)) continue;
            skipped++;
            foreach (string value in values)
            {
                HpackLiteralKind kind = HpackIndexingPolicy.Choose(HpackStaticTable.GetName(index), Latin1(value), index, 4096);
                Assert.NotEqual(HpackLiteralKind.Incremental, kind);
            }
        }
        Assert.Equal(10, skipped);
    }

    [Fact]
    public void ARepeatedPathIsStillALiteralAndDecodes()
    {
        // :path is never indexed (per request), so the skipped scan must leave the output as before: literal, static name 4.
        var encoder = new HpackEncoder();
        using var decoder = new HpackDecoder();
        for (int i = 0; i < 3; i++)
        {
            var writer = new ArrayBufferWriter<byte>();
            encoder.Encode(HpackFieldName.Path, Latin1("/hello"), false, writer);
            Assert.Equal(0x04, writer.WrittenSpan[0]);
            Assert.Equal([new(":path", "/hello")], DecodeBlock(decoder, writer.WrittenSpan.ToArray()));
        }
        Assert.Equal(0, encoder.DynamicTableCount);
    }
}
