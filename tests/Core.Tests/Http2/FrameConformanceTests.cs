using System.Buffers;
using System.Text.Json;
using Sidecar.Core.Http2;
using Xunit;

namespace Sidecar.Core.Tests.Http2;

/// <summary>
/// Every case of ../shared/conformance/http2-frames (http2-frame-test-case): valid wire bytes decode
/// to the recorded fields; error cases produce one of the recorded error codes.
/// </summary>
public sealed class FrameConformanceTests
{
    private static string Root => Path.GetFullPath(Path.Combine(Config.RepoPaths.RepoRoot, "..", "shared", "conformance", "http2-frames"));

    public static IEnumerable<object[]> Cases() =>
        Directory.GetDirectories(Root).OrderBy(d => d, StringComparer.Ordinal)
            .SelectMany(d => Directory.GetFiles(d, "*.json").OrderBy(f => f, StringComparer.Ordinal))
            .Select(f => new object[] { Path.GetRelativePath(Root, f) });

    [Fact]
    public void CorpusIsThere() => Assert.True(Cases().Count() >= 34, "expected the 34 shared frame cases");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decodes(string relative)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, relative)));
        JsonElement root = doc.RootElement;
        byte[] wire = Convert.FromHexString(root.GetProperty("wire").GetString()!);
        var buffer = new ReadOnlySequence<byte>(wire);
        Http2ReadStatus status = Http2FrameReader.TryRead(ref buffer, Http2Constants.MinMaxFrameSize, out Http2FrameHeader h, out ReadOnlySequence<byte> payload);

        if (root.GetProperty("error").ValueKind == JsonValueKind.Array)
        {
            uint[] allowed = root.GetProperty("error").EnumerateArray().Select(e => e.GetUInt32()).ToArray();
            Http2ErrorCode code = status == Http2ReadStatus.FrameTooLarge
                ? Http2ErrorCode.FrameSizeError
                : ErrorOf(h, payload);
            Assert.Contains((uint)code, allowed);
            return;
        }

        Assert.Equal(Http2ReadStatus.Complete, status);
        Assert.True(buffer.IsEmpty);
        JsonElement frame = root.GetProperty("frame");
        Assert.Equal(frame.GetProperty("length").GetInt32(), h.Length);
        Assert.Equal(frame.GetProperty("type").GetInt32(), (int)h.Type);
        Assert.Equal(frame.GetProperty("flags").GetInt32(), h.Flags);
        Assert.Equal(frame.GetProperty("stream_identifier").GetInt32(), h.StreamId);
        Assert.False(Http2FrameReader.Validate(h, payload).IsError);
        CheckPayload(h, payload, frame.GetProperty("frame_payload"));
    }

    /// <summary>The error a receiver reports: per-frame checks, then the ones that need the payload (SETTINGS values).</summary>
    private static Http2ErrorCode ErrorOf(in Http2FrameHeader h, in ReadOnlySequence<byte> payload)
    {
        Http2FrameError e = Http2FrameReader.Validate(h, payload);
        if (e.IsError) return e.Code;
        if (h.Type == Http2FrameType.Settings && !h.HasFlag(Http2Flags.Ack))
        {
            Http2Settings s = Http2Settings.Default;
            e = s.Apply(payload, out _);
            if (e.IsError) return e.Code;
        }
        return Http2ErrorCode.NoError;
    }

    private static void CheckPayload(in Http2FrameHeader h, in ReadOnlySequence<byte> payload, JsonElement p)
    {
        switch (h.Type)
        {
            case Http2FrameType.Data:
                Assert.Equal(p.GetProperty("data").GetString(), Ascii(Http2FrameReader.DataContent(h, payload)));
                CheckPadding(h, payload, p);
                break;
            case Http2FrameType.Headers:
            {
                ReadOnlySequence<byte> fragment = Http2FrameReader.HeadersFragment(h, payload, out int dependsOn);
                Assert.Equal(p.GetProperty("header_block_fragment").GetString(), Ascii(fragment));
                if (p.GetProperty("stream_dependency").ValueKind == JsonValueKind.Number)
                    Assert.Equal(p.GetProperty("stream_dependency").GetInt32(), dependsOn);
                CheckPadding(h, payload, p);
                break;
            }
            case Http2FrameType.Priority:
                Assert.Equal(p.GetProperty("stream_dependency").GetInt32(), Http2FrameReader.PriorityDependency(payload));
                break;
            case Http2FrameType.RstStream:
                Assert.Equal(p.GetProperty("error_code").GetUInt32(), Http2FrameReader.ReadUInt32(payload));
                break;
            case Http2FrameType.Settings:
            {
                Http2Settings s = Http2Settings.Default;
                Assert.False(s.Apply(payload, out _).IsError);
                var expected = p.GetProperty("settings").EnumerateArray().Select(a => (a[0].GetInt32(), a[1].GetUInt32())).ToList();
                Assert.Equal(expected.Count * 6, h.Length);
                foreach (var (id, value) in expected)
                {
                    if (id == (int)Http2SettingId.HeaderTableSize) Assert.Equal((int)value, s.HeaderTableSize);
                    if (id == (int)Http2SettingId.InitialWindowSize) Assert.Equal((int)value, s.InitialWindowSize);
                    if (id == (int)Http2SettingId.MaxConcurrentStreams) Assert.Equal((int)value, s.MaxConcurrentStreams);
                }
                break;
            }
            case Http2FrameType.PushPromise:
                Assert.Equal(p.GetProperty("promised_stream_id").GetInt32(), Http2FrameReader.ReadPromisedStreamId(h, payload));
                break;
            case Http2FrameType.Ping:
                Assert.Equal(p.GetProperty("opaque_data").GetString(), Ascii(payload));
                break;
            case Http2FrameType.GoAway:
            {
                (int last, Http2ErrorCode code) = Http2FrameReader.ReadGoAway(payload);
                Assert.Equal(p.GetProperty("last_stream_id").GetInt32(), last);
                Assert.Equal(p.GetProperty("error_code").GetUInt32(), (uint)code);
                Assert.Equal(p.GetProperty("additional_debug_data").GetString(), Ascii(payload.Slice(8)));
                break;
            }
            case Http2FrameType.WindowUpdate:
                Assert.Equal(p.GetProperty("window_size_increment").GetInt32(), Http2FrameReader.ReadUInt31(payload));
                break;
            case Http2FrameType.Continuation:
                Assert.Equal(p.GetProperty("header_block_fragment").GetString(), Ascii(payload));
                break;
        }
    }

    private static void CheckPadding(in Http2FrameHeader h, in ReadOnlySequence<byte> payload, JsonElement p)
    {
        if (p.GetProperty("padding_length").ValueKind != JsonValueKind.Number) return;
        Assert.Equal(p.GetProperty("padding_length").GetInt32(), Http2FrameReader.PadLength(h, payload));
    }

    private static string Ascii(in ReadOnlySequence<byte> bytes) => System.Text.Encoding.ASCII.GetString(bytes.ToArray());
}
