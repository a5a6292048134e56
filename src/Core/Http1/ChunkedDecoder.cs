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
    private byte _ext;
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
                        // RFC 9112 §7.1: chunk-size is 1*HEXDIG with no upper bound in the grammar; we refuse
                        // a size that does not fit a non-negative long rather than wrap (a wrapped size was
                        // negative and crashed the data slice).
                        if (++_digits > MaxSizeDigits || _remaining > (long.MaxValue >> 4)) return Fail(Http1Error.InvalidChunkSize, out error);
                        _remaining = (_remaining << 4) | (uint)v;
                        break;
                    }
                    if (_digits == 0) return Fail(Http1Error.InvalidChunkSize, out error);
                    if (b == (byte)';') { _state = State.Extension; _ext = ChunkExt.BeforeName; _lineBytes = 0; break; }
                    if (b == (byte)'\r') { _state = State.SizeLf; break; }
                    return Fail(Http1Error.InvalidChunkSize, out error);
                }
                case State.Extension:
                {
                    if (!reader.TryRead(out byte b)) return ChunkedStatus.NeedMore;
                    // RFC 9112 §7.1.1 chunk-ext grammar, checked byte by byte: a lax scan here is where
                    // parsers disagree on where the chunk line ends (e.g. a CR inside a quoted-string).
                    _ext = ChunkExt.Next(_ext, b);
                    if (_ext == ChunkExt.End) { _state = State.SizeLf; break; }
                    if (_ext == ChunkExt.Invalid || ++_lineBytes > MaxLineBytes) return Fail(Http1Error.InvalidChunkExtension, out error);
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

    /// <summary>
    /// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), chunk-ext-name = token,
    /// chunk-ext-val = token / quoted-string (RFC 9112 §7.1.1, RFC 9110 §5.6.4). States follow the ";".
    /// </summary>
    private static class ChunkExt
    {
        public const byte BeforeName = 0, Name = 1, AfterName = 2, BeforeValue = 3, Token = 4, Quoted = 5, QuotedPair = 6,
            AfterValue = 7, End = 8, Invalid = 9;

        public static byte Next(byte state, byte b)
        {
            bool ws = b == (byte)' ' || b == (byte)'\t';
            switch (state)
            {
                case BeforeName:
                    // A ";" must be followed by a name: "1;\r\n" is invalid.
                    return ws ? BeforeName : HttpChars.IsToken(b) ? Name : Invalid;
                case Name:
                    if (HttpChars.IsToken(b)) return Name;
                    return ws ? AfterName : AfterNameOrValue(b, AfterName);
                case AfterName:
                    return ws ? AfterName : AfterNameOrValue(b, AfterName);
                case BeforeValue:
                    if (ws) return BeforeValue;
                    if (b == (byte)'"') return Quoted;
                    return HttpChars.IsToken(b) ? Token : Invalid;
                case Token:
                    if (HttpChars.IsToken(b)) return Token;
                    return ws ? AfterValue : AfterNameOrValue(b, AfterValue);
                case Quoted:
                    // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4); CR and LF are not.
                    if (b == (byte)'"') return AfterValue;
                    if (b == (byte)'\\') return QuotedPair;
                    return ws || (b > 0x20 && b != 0x7F) ? Quoted : Invalid;
                case QuotedPair:
                    // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                    return ws || (b > 0x20 && b != 0x7F) ? Quoted : Invalid;
                case AfterValue:
                    return ws ? AfterValue : AfterNameOrValue(b, AfterValue);
                default:
                    return Invalid;
            }
        }

        private static byte AfterNameOrValue(byte b, byte from)
        {
            if (b == (byte)'\r') return End;
            if (b == (byte)';') return BeforeName;
            if (b == (byte)'=' && from == AfterName) return BeforeValue;
            return Invalid;
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
