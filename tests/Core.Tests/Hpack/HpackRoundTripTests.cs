using System.Buffers;
using Sidecar.Core.Hpack;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>
/// Every raw-data story (3,384 header sets) is encoded by our encoder, one encoder per story, and the blocks decode
/// to the same header lists with our decoder and with python3-hpack. Odd stories also change the peer's
/// SETTINGS_HEADER_TABLE_SIZE along the way (down, up, down-and-up between two blocks) so size updates are exercised.
/// </summary>
public sealed class HpackRoundTripTests(ITestOutputHelper output)
{
    /// <summary>SETTINGS_HEADER_TABLE_SIZE sequences applied before some blocks: each inner array is sent between two blocks.</summary>
    private static readonly int[][] SettingsChanges = [[1024], [0], [256, 4096], [4096], [0, 2048], [8192], [100]];

    [Fact]
    public void RawDataRoundTripsThroughOurDecoderAndPythonHpack()
    {
        var ourStories = new List<List<List<Field>>>();
        var wires = new List<List<PythonHpack.Block>>();
        long rawBytes = 0, encodedBytes = 0;
        int storyNumber = 0;
        foreach (string path in HpackStoryFile.RawStories())
        {
            List<StoryCase> cases = HpackStoryFile.Load(path);
            var encoder = new HpackEncoder();
            using var decoder = new HpackDecoder(maxHeaderListSize: 1 << 20);
            var storyWires = new List<PythonHpack.Block>();
            int changes = 0;
            foreach (StoryCase c in cases)
            {
                var settings = new List<int>();
                if (storyNumber % 2 == 1 && c.Seqno % 9 == 4)
                {
                    foreach (int size in SettingsChanges[changes++ % SettingsChanges.Length])
                    {
                        settings.Add(size);
                        encoder.SetPeerMaxTableSize(size);
                        decoder.MaxDynamicTableSize = size;
                    }
                }
                var block = new ArrayBufferWriter<byte>();
                encoder.BeginBlock(block);
                foreach (Field f in c.Headers)
                {
                    encoder.Encode(HpackTestData.Latin1(f.Name), HpackTestData.Latin1(f.Value), neverIndex: false, block);
                    rawBytes += f.Name.Length + f.Value.Length + 4; // "name: value\r\n" as HTTP/1 would send it
                }
                encodedBytes += block.WrittenCount;

                List<Field> decoded = HpackTestData.DecodeBlock(decoder, block.WrittenSpan.ToArray());
                Assert.Equal(c.Headers, HpackTestData.WithoutFlags(decoded));
                storyWires.Add(new PythonHpack.Block(settings, HpackTestData.Hex(block.WrittenSpan)));
            }
            ourStories.Add(cases.ConvertAll(c => c.Headers));
            wires.Add(storyWires);
            storyNumber++;
        }
        Assert.Equal(32, storyNumber);

        List<List<(List<Field>? Fields, string? Error)>> python = PythonHpack.Decode(wires);
        Assert.Equal(ourStories.Count, python.Count);
        int blocks = 0;
        for (int s = 0; s < python.Count; s++)
        {
            Assert.Equal(ourStories[s].Count, python[s].Count);
            for (int b = 0; b < python[s].Count; b++)
            {
                Assert.True(python[s][b].Error is null, $"story {s} block {b}: python3-hpack: {python[s][b].Error}");
                Assert.Equal(ourStories[s][b], python[s][b].Fields);
                blocks++;
            }
        }
        Assert.True(blocks > 3000);
        output.WriteLine($"{blocks} blocks: {rawBytes} bytes as HTTP/1-style text, {encodedBytes} bytes HPACK ({100.0 * encodedBytes / rawBytes:F1}%)");
    }
}
