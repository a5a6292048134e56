using Sidecar.Core.Protobuf;
using Xunit;

namespace Sidecar.Core.Tests.Protobuf;

public sealed class ProtoWireTests
{
    [Fact]
    public void VarintsMatchTheSpecExamples()
    {
        // protobuf.dev Encoding: 150 is 96 01; field 1 varint 150 is 08 96 01.
        var w = new ProtoWriter();
        w.WriteUInt64(1, 150);
        Assert.Equal(new byte[] { 0x08, 0x96, 0x01 }, w.ToArray());
        var r = new ProtoReader(w.WrittenSpan);
        Assert.True(r.TryReadTag(out int field, out WireType type));
        Assert.Equal((1, WireType.Varint), (field, type));
        Assert.True(r.TryReadVarint(out ulong v));
        Assert.Equal(150ul, v);
        Assert.False(r.TryReadTag(out _, out _));
        Assert.Equal(ProtoError.None, r.Error);
    }

    [Fact]
    public void NegativeInt64IsTenBytesAndRoundTrips()
    {
        var w = new ProtoWriter();
        w.WriteInt64(2, -1);
        Assert.Equal(1 + 10, w.Length);
        var r = new ProtoReader(w.WrittenSpan);
        Assert.True(r.TryReadTag(out _, out _));
        Assert.True(r.TryReadVarint(out ulong v));
        Assert.Equal(-1L, (long)v);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(20000)]
    public void NestedMessagesGetMinimalLengthPrefixes(int bodySize)
    {
        var w = new ProtoWriter(16);
        w.WriteString(1, "before");
        int mark = w.BeginMessage(2);
        w.WriteBytes(3, new byte[bodySize]);
        w.EndMessage(mark);
        w.WriteBool(4, true);

        var r = new ProtoReader(w.WrittenSpan);
        Assert.True(r.TryReadTag(out _, out _));
        Assert.True(r.TryReadString(out string s));
        Assert.Equal("before", s);
        Assert.True(r.TryReadTag(out int f, out WireType t));
        Assert.Equal((2, WireType.LengthDelimited), (f, t));
        int lengthStart = r.Position;
        Assert.True(r.TryReadBytes(out ReadOnlySpan<byte> body));
        int innerLength = 1 + ProtoWriter.VarintSize((ulong)bodySize) + bodySize;
        Assert.Equal(innerLength, body.Length);
        Assert.Equal(ProtoWriter.VarintSize((ulong)innerLength), r.Position - lengthStart - innerLength);
        var inner = new ProtoReader(body);
        Assert.True(inner.TryReadTag(out int f3, out _));
        Assert.Equal(3, f3);
        Assert.True(inner.TryReadBytes(out ReadOnlySpan<byte> payload));
        Assert.Equal(bodySize, payload.Length);
        Assert.True(r.TryReadTag(out int f4, out _));
        Assert.Equal(4, f4);
        Assert.True(r.TryReadVarint(out ulong b));
        Assert.Equal(1ul, b);
    }

    [Theory]
    [InlineData(new byte[] { 0x08 }, ProtoError.Truncated)]
    [InlineData(new byte[] { 0x0A, 0x05, 0x41 }, ProtoError.LengthOutOfRange)]
    [InlineData(new byte[] { 0x0E, 0x00 }, ProtoError.BadWireType)]
    [InlineData(new byte[] { 0x0B }, ProtoError.GroupsUnsupported)]
    [InlineData(new byte[] { 0x00, 0x00 }, ProtoError.BadFieldNumber)]
    [InlineData(new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, ProtoError.VarintTooLong)]
    public void BadInputIsAnErrorNotAnException(byte[] input, ProtoError expected)
    {
        var r = new ProtoReader(input);
        while (r.TryReadTag(out _, out WireType t) && r.TrySkip(t)) { }
        Assert.Equal(expected, r.Error);
    }

    [Fact]
    public void InvalidUtf8StringIsRefused()
    {
        var r = new ProtoReader(new byte[] { 0x0A, 0x02, 0xC3, 0x28 });
        Assert.True(r.TryReadTag(out _, out _));
        Assert.False(r.TryReadString(out _));
        Assert.Equal(ProtoError.BadUtf8, r.Error);
    }

    [Fact]
    public void ZigZagRoundTrips()
    {
        foreach (long v in new[] { 0L, -1L, 1L, long.MinValue, long.MaxValue })
            Assert.Equal(v, ProtoReader.DecodeZigZag(ProtoWriter.EncodeZigZag(v)));
        Assert.Equal(1ul, ProtoWriter.EncodeZigZag(-1));
    }
}
