using System.Buffers;

namespace Sidecar.Core.Http1;

public enum ChunkedStatus : byte
{
    /// <summary>All input consumed; read more.</summary>
    NeedMore,
    /// <summary><c>data</c> holds chunk payload bytes (a slice of the input; forward before advancing the pipe).</summary>
    Data,
    /// <summary><c>data</c> holds one complete trailer field line including its CRLF.</summary>
    Trailer,
    /// <summary>The last-chunk and trailer section are complete.</summary>
    Done,
    Error,
}

/// <summary>
/// Resumable decoder of the chunked transfer coding (RFC 9112 §7.1). It keeps its position
/// between reads, so any split of the input gives the same result. Chunk extensions are
/// validated and dropped (we re-frame what we forward); trailers are returned line by line.
/// </summary>
public struct ChunkedDecoder
{
    private enum State : byte { Size, Extension, SizeLf, Data, DataCr, DataLf, TrailerStart, TrailerLine, EndLf, Done }

    /// <summary>Chunk-size is at most 16 hex digits (a 64-bit length); more is an overflow attack.</summary>
    private const int MaxSizeDigits = 16;
    /// <summary>Bound on one chunk-extension or trailer line, so a peer cannot make us scan forever.</summary>
    private const int MaxLineBytes = 8 * 1024;

    private State _state;
    private long _remaining;
    private int _digits;
    private int _lineBytes;

    public readonly bool IsDone => _state == State.Done;

    public void Reset() => this = default;

    public ChunkedStatus Read(ref SequenceReader<byte> reader, out ReadOnlySequence<byte> data, out Http1Error error)
    {
        data = default;
        error = Http1Error.None;
        while (true)
        {
            switch (_state)
            {
                case State.Size:
                {
                    if (!reader.TryRead(out byte b)) return ChunkedStatus.NeedMore;
                    int v = HexValue(b);
                    if (v >= 0)
                    {
                        if (++_digits > MaxSizeDigits) return Fail(Http1Error.InvalidChunkSize, out error);
                        _remaining = (_remaining << 4) | (uint)v;
                        break;
                    }
                    if (_digits == 0) return Fail(Http1Error.InvalidChunkSize, out error);
                    if (b == (byte)';') { _state = State.Extension; _lineBytes = 0; break; }
                    if (b == (byte)'\r') { _state = State.SizeLf; break; }
                    return Fail(Http1Error.InvalidChunkSize, out error);
                }
                case State.Extension:
                {
                    if (!reader.TryRead(out byte b)) return ChunkedStatus.NeedMore;
                    if (b == (byte)'\r') { _state = State.SizeLf; break; }
                    // chunk-ext is tokens, quoted-strings, "=", ";" and BWS: no CTLs other than HTAB.
                    if ((b < 0x20 && b != (byte)'\t') || b == 0x7F || ++_lineBytes > MaxLineBytes)
                    {
                        return Fail(Http1Error.InvalidChunkExtension, out error);
                    }
                    break;
                }
                case State.SizeLf:
                {
                    if (!reader.TryRead(out byte b)) return ChunkedStatus.NeedMore;
                    if (b != (byte)'\n') return Fail(Http1Error.InvalidChunkSize, out error);
                    _digits = 0;
                    _state = _remaining == 0 ? State.TrailerStart : State.Data;
                    break;
                }
                case State.Data:
                {
                    long available = reader.Remaining;
                    if (available == 0) return ChunkedStatus.NeedMore;
                    long take = Math.Min(available, _remaining);
                    data = reader.UnreadSequence.Slice(0, take);
                    reader.Advance(take);
                    _remaining -= take;
                    if (_remaining == 0) _state = State.DataCr;
                    return ChunkedStatus.Data;
                }
                case State.DataCr:
                {
                    if (!reader.TryRead(out byte b)) return ChunkedStatus.NeedMore;
                    if (b != (byte)'\r') return Fail(Http1Error.InvalidChunkTerminator, out error);
                    _state = State.DataLf;
                    break;
                }
                case State.DataLf:
                {
                    if (!reader.TryRead(out byte b)) return ChunkedStatus.NeedMore;
                    if (b != (byte)'\n') return Fail(Http1Error.InvalidChunkTerminator, out error);
                    _state = State.Size;
                    break;
                }
                case State.TrailerStart:
                {
                    if (!reader.TryPeek(out byte b)) return ChunkedStatus.NeedMore;
                    if (b == (byte)'\r')
                    {
                        reader.Advance(1);
                        _state = State.EndLf;
                        break;
                    }
                    _state = State.TrailerLine;
                    break;
                }
                case State.TrailerLine:
                {
                    SequenceReader<byte> probe = reader;
                    if (!probe.TryAdvanceTo((byte)'\n', advancePastDelimiter: true))
                    {
                        if (reader.Remaining > MaxLineBytes) return Fail(Http1Error.InvalidTrailer, out error);
                        return ChunkedStatus.NeedMore;
                    }
                    long lineLength = probe.Consumed - reader.Consumed;
                    ReadOnlySequence<byte> line = reader.UnreadSequence.Slice(0, lineLength);
                    if (lineLength > MaxLineBytes || !IsValidTrailerLine(line)) return Fail(Http1Error.InvalidTrailer, out error);
                    reader.Advance(lineLength);
                    data = line;
                    _state = State.TrailerStart;
                    return ChunkedStatus.Trailer;
                }
                case State.EndLf:
                {
                    if (!reader.TryRead(out byte b)) return ChunkedStatus.NeedMore;
                    if (b != (byte)'\n') return Fail(Http1Error.InvalidChunkTerminator, out error);
                    _state = State.Done;
                    return ChunkedStatus.Done;
                }
                case State.Done:
                    return ChunkedStatus.Done;
            }
        }
    }

    private static ChunkedStatus Fail(Http1Error e, out Http1Error error)
    {
        error = e;
        return ChunkedStatus.Error;
    }

    private static int HexValue(byte b)
    {
        if ((uint)(b - '0') <= 9) return b - '0';
        int lower = b | 0x20;
        if ((uint)(lower - 'a') <= 5) return lower - 'a' + 10;
        return -1;
    }

    private static bool IsValidTrailerLine(in ReadOnlySequence<byte> line)
    {
        Span<byte> buf = stackalloc byte[MaxLineBytes + 2];
        int n = (int)line.Length;
        line.CopyTo(buf);
        ReadOnlySpan<byte> s = buf[..n];
        if (n < 2 || s[n - 2] != (byte)'\r') return false;
        s = s[..(n - 2)];
        int colon = s.IndexOf((byte)':');
        if (colon <= 0 || !HttpChars.IsToken(s[..colon])) return false;
        return HttpChars.IsFieldValue(s[(colon + 1)..]);
    }
}
