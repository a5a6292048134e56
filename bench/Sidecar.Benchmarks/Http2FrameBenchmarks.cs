using System.Buffers;
using BenchmarkDotNet.Attributes;
using Sidecar.Core.Http2;

namespace Sidecar.Benchmarks;

/// <summary>
/// HTTP/2 frame reading (split + per-type validation + payload slicing) and writing of the frames a
/// proxied request produces, into a reused buffer. Hot path: expected 0 B/op.
/// </summary>
[MemoryDiagnoser]
public class Http2FrameBenchmarks
{
    private readonly ArrayBufferWriter<byte> _out = new(64 * 1024);
    private byte[] _wire = [];
    private readonly byte[] _headerBlock = new byte[48];
    private readonly byte[] _body = new byte[1024];

    [GlobalSetup]
    public void Setup()
    {
        // What a client sends for a POST: HEADERS, DATA, DATA with END_STREAM, a WINDOW_UPDATE, a PING.
        var w = new ArrayBufferWriter<byte>();
        Http2FrameWriter.WriteHeaderBlock(w, 1, _headerBlock, endStream: false, maxFrameSize: 16_384);
        Http2FrameWriter.WriteData(w, 1, _body, endStream: false);
        Http2FrameWriter.WriteData(w, 1, _body, endStream: true);
        Http2FrameWriter.WriteWindowUpdate(w, 0, 65_535);
        Http2FrameWriter.WritePing(w, ack: false, 42);
        _wire = w.WrittenSpan.ToArray();
    }

    [Benchmark]
    public int ReadFrames()
    {
        var buffer = new ReadOnlySequence<byte>(_wire);
        int bytes = 0;
        while (Http2FrameReader.TryRead(ref buffer, 16_384, out Http2FrameHeader h, out ReadOnlySequence<byte> payload) == Http2ReadStatus.Complete)
        {
            if (Http2FrameReader.Validate(h, payload).IsError) return -1;
            bytes += h.Type switch
            {
                Http2FrameType.Data => (int)Http2FrameReader.DataContent(h, payload).Length,
                Http2FrameType.Headers => (int)Http2FrameReader.HeadersFragment(h, payload, out _).Length,
                Http2FrameType.WindowUpdate => Http2FrameReader.ReadUInt31(payload),
                _ => h.Length,
            };
        }
        return bytes;
    }

    [Benchmark]
    public int WriteResponseFrames()
    {
        _out.ResetWrittenCount();
        Http2FrameWriter.WriteHeaderBlock(_out, 1, _headerBlock, endStream: false, maxFrameSize: 16_384);
        Http2FrameWriter.WriteData(_out, 1, _body, endStream: true);
        Http2FrameWriter.WriteWindowUpdate(_out, 1, 2048);
        Http2FrameWriter.WriteRstStream(_out, 1, Http2ErrorCode.NoError);
        return _out.WrittenCount;
    }
}
