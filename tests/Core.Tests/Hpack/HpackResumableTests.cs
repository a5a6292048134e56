using System.Buffers;
using Sidecar.Core.Hpack;
using Xunit;
using static Sidecar.Core.Tests.Hpack.HpackTestData;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>
/// A header block may be cut anywhere between HEADERS and CONTINUATION frames (RFC 9113 §4.3); the decoder carries
/// a split representation over. Every cut position gives the same fields and the same dynamic table.
/// </summary>
public sealed class HpackResumableTests
{
    /// <summary>
    /// Two blocks from our encoder: the first fills the dynamic table, the second starts with size updates and mixes
    /// indexed static/dynamic fields, Huffman and raw literals, never-indexed, multi-byte lengths and a name index > 62.
    /// </summary>
    private static (byte[] First, byte[] Second, List<Field> FirstFields, List<Field> SecondFields) Blocks()
    {
        var encoder = new HpackEncoder();
        List<Field> first =
        [
            new(":method", "POST"), new(":scheme", "https"), new(":authority", "svc.ns.svc.cluster.local:8080"),
            new(":path", "/api/v1/items?id=42"), new("content-type", "application/grpc"), new("te", "trailers"),
            new("x-custom-route", "blue"), new("user-agent", "grpc-go/1.60.0"),
        ];
        List<Field> second =
        [
            new(":method", "POST"), new(":scheme", "https"), new(":authority", "svc.ns.svc.cluster.local:8080"),
            new(":path", "/api/v1/items?id=43"), new("x-custom-route", "green"), new("authorization", "Bearer abc.def.ghi", true),
            new("x-long", new string('v', 300)), new("x-binary", "\u0001\u00ff\u007f"), new("user-agent", "grpc-go/1.60.0"),
            new("x-request-id", "0f8fad5b-d9cb-469f-a165-70867728950e"),
        ];
        byte[] a = EncodeBlock(encoder, first);
        encoder.SetPeerMaxTableSize(1024);
        encoder.SetPeerMaxTableSize(4096);
        byte[] b = EncodeBlock(encoder, second);
        return (a, b, first, second);
    }

    private static byte[] EncodeBlock(HpackEncoder encoder, List<Field> fields)
    {
        var writer = new ArrayBufferWriter<byte>();
        encoder.BeginBlock(writer);
        foreach (Field f in fields) encoder.Encode(Latin1(f.Name), Latin1(f.Value), f.NeverIndexed, writer);
        return writer.WrittenSpan.ToArray();
    }

    [Fact]
    public void EverySplitPositionDecodesTheSame()
    {
        (byte[] first, byte[] second, List<Field> firstFields, List<Field> secondFields) = Blocks();
        Assert.True(second.Length > 300);
        Assert.Equal(0x20, second[0] & 0xE0); // starts with a size update
        for (int cut = 0; cut <= second.Length; cut++)
        {
            using var decoder = new HpackDecoder();
            Assert.Equal(firstFields, DecodeSplit(decoder, first, cut % (first.Length + 1)));
            decoder.MaxDynamicTableSize = 1024; // the updates at the start of the second block are then required
            decoder.MaxDynamicTableSize = 4096;
            Assert.Equal(secondFields, DecodeSplit(decoder, second, cut));
            // The tables agree afterwards: the next block indexes the same entries.
            Assert.Equal(secondFields, DecodeSplit(decoder, ReEncodeIndexed(second, secondFields), 1));
        }
    }

    [Fact]
    public void EveryThreeWaySplitDecodesTheSame()
    {
        (byte[] first, byte[] second, List<Field> firstFields, List<Field> secondFields) = Blocks();
        byte[] head = second[..Math.Min(second.Length, 120)];
        for (int i = 0; i <= head.Length; i++)
        {
            for (int j = i; j <= head.Length; j++)
            {
                using var decoder = new HpackDecoder();
                Assert.Equal(firstFields, DecodeSplit(decoder, first, 0));
                decoder.MaxDynamicTableSize = 1024;
                decoder.MaxDynamicTableSize = 4096;
                var sink = new HeaderCollector();
                Assert.Equal(HpackStatus.Ok, decoder.Decode(second.AsSpan(0, i), endHeaders: false, sink));
                Assert.Equal(HpackStatus.Ok, decoder.Decode(second.AsSpan(i, j - i), endHeaders: false, sink));
                Assert.Equal(HpackStatus.Ok, decoder.Decode(second.AsSpan(j), endHeaders: true, sink));
                Assert.Equal(secondFields, sink.Fields);
            }
        }
    }

    [Fact]
    public void OneByteFragmentsDecodeTheSame()
    {
        (byte[] first, byte[] second, List<Field> firstFields, List<Field> secondFields) = Blocks();
        using var decoder = new HpackDecoder();
        Assert.Equal(firstFields, DecodeSplit(decoder, first, 0));
        decoder.MaxDynamicTableSize = 1024;
        decoder.MaxDynamicTableSize = 4096;
        var sink = new HeaderCollector();
        for (int i = 0; i < second.Length; i++)
        {
            Assert.Equal(HpackStatus.Ok, decoder.Decode(second.AsSpan(i, 1), endHeaders: false, sink));
        }
        Assert.Equal(HpackStatus.Ok, decoder.Decode(ReadOnlySpan<byte>.Empty, endHeaders: true, sink));
        Assert.Equal(secondFields, sink.Fields);
    }

    private static List<Field> DecodeSplit(HpackDecoder decoder, byte[] block, int cut)
    {
        var sink = new HeaderCollector();
        Assert.Equal(HpackStatus.Ok, decoder.Decode(block.AsSpan(0, cut), endHeaders: false, sink));
        Assert.Equal(HpackStatus.Ok, decoder.Decode(block.AsSpan(cut), endHeaders: true, sink));
        return sink.Fields;
    }

    /// <summary>The same field list again from the same encoder state is mostly indexed references into the dynamic table.</summary>
    private static byte[] ReEncodeIndexed(byte[] second, List<Field> fields)
    {
        // Replay the encoder to the state after the second block, then encode the list once more.
        var encoder = new HpackEncoder();
        (byte[] a, _, List<Field> firstFields, _) = Blocks();
        EncodeBlock(encoder, firstFields);
        encoder.SetPeerMaxTableSize(1024);
        encoder.SetPeerMaxTableSize(4096);
        Assert.Equal(second, EncodeBlock(encoder, fields));
        byte[] again = EncodeBlock(encoder, fields);
        Assert.True(again.Length < second.Length / 2 && a.Length > 0);
        return again;
    }
}
