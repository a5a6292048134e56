namespace Sidecar.Bench.LoadGen;

/// <summary>
/// Incremental HTTP/1.1 response framing: finds where each response ends in a byte stream that may
/// split anywhere (RFC 9112 §6.3: Content-Length, chunked, or no body for 1xx/204/304). It only
/// frames; it keeps the status code and nothing else, because the generator only times responses.
/// </summary>
internal sealed class ResponseScanner
{
    private enum State { Head, FixedBody, ChunkSize, ChunkData, ChunkDataEnd, Trailers }

    private const int MaxHeadBytes = 64 * 1024;
    private readonly byte[] _head = new byte[MaxHeadBytes];
    private int _headLength;
    private State _state = State.Head;
    private long _remaining;
    private int _status;

    /// <summary>Status code of the response that the last <see cref="Feed"/> completed.</summary>
    public int LastStatus { get; private set; }

    /// <summary>True when a malformed response was seen; the connection must be dropped.</summary>
    public bool Broken { get; private set; }

    public void Reset()
    {
        _headLength = 0;
        _state = State.Head;
        _remaining = 0;
        _interim = false;
        Broken = false;
    }

    /// <summary>
    /// Consumes bytes from <paramref name="data"/> until one response completes (returns true and sets
    /// <paramref name="consumed"/> to the bytes used) or the data runs out (returns false, all consumed).
    /// </summary>
    public bool Feed(ReadOnlySpan<byte> data, out int consumed)
    {
        var pos = 0;
        while (pos < data.Length && !Broken)
        {
            switch (_state)
            {
                case State.Head:
                    pos += TakeLine(data[pos..], out var lineDone);
                    if (lineDone && EndsWithBlankLine())
                    {
                        if (!ParseHead())
                        {
                            Broken = true;
                            break;
                        }
                        if (_state == State.Head && !_interim)
                        {
                            consumed = pos;
                            return Complete();
                        }
                        _interim = false;
                    }
                    break;
                case State.FixedBody:
                    var take = (int)Math.Min(_remaining, data.Length - pos);
                    pos += take;
                    _remaining -= take;
                    if (_remaining == 0)
                    {
                        consumed = pos;
                        return Complete();
                    }
                    break;
                case State.ChunkSize:
                case State.ChunkDataEnd:
                case State.Trailers:
                    pos += TakeLine(data[pos..], out var done);
                    if (done && LineComplete(out var finished))
                    {
                        if (finished)
                        {
                            consumed = pos;
                            return Complete();
                        }
                    }
                    break;
                case State.ChunkData:
                    var n = (int)Math.Min(_remaining, data.Length - pos);
                    pos += n;
                    _remaining -= n;
                    if (_remaining == 0)
                    {
                        _state = State.ChunkDataEnd;
                    }
                    break;
            }
        }
        consumed = pos;
        return false;
    }

    private bool Complete()
    {
        LastStatus = _status;
        _headLength = 0;
        _state = State.Head;
        return true;
    }

    /// <summary>Copies bytes up to and including the next LF into the line buffer.</summary>
    private int TakeLine(ReadOnlySpan<byte> data, out bool lineDone)
    {
        var lf = data.IndexOf((byte)'\n');
        var n = lf < 0 ? data.Length : lf + 1;
        if (_headLength + n > MaxHeadBytes)
        {
            Broken = true;
            lineDone = false;
            return n;
        }
        data[..n].CopyTo(_head.AsSpan(_headLength));
        _headLength += n;
        lineDone = lf >= 0;
        return n;
    }

    private bool EndsWithBlankLine()
    {
        var h = _head.AsSpan(0, _headLength);
        return h.EndsWith("\r\n\r\n"u8) || h.EndsWith("\n\n"u8);
    }

    /// <summary>Status line and the framing headers (RFC 9112 §4, §6.1, §6.2).</summary>
    private bool ParseHead()
    {
        var h = _head.AsSpan(0, _headLength);
        // "HTTP/1.x NNN" — RFC 9112 §4 status-line
        if (h.Length < 12 || !h.StartsWith("HTTP/1."u8) || h[8] != (byte)' ')
        {
            return false;
        }
        _status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
        long contentLength = -1;
        var chunked = false;
        var rest = h[(h.IndexOf((byte)'\n') + 1)..];
        while (rest.Length > 0)
        {
            var lf = rest.IndexOf((byte)'\n');
            var line = rest[..lf].TrimEnd((byte)'\r');
            rest = rest[(lf + 1)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (name.Length == 14 && System.Text.Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                if (!System.Buffers.Text.Utf8Parser.TryParse(value, out contentLength, out var used) || used != value.Length)
                {
                    return false;
                }
            }
            else if (name.Length == 17 && System.Text.Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                chunked = value.Length >= 7 && System.Text.Ascii.EqualsIgnoreCase(value[^7..], "chunked"u8);
            }
        }
        _headLength = 0;
        // RFC 9112 §6.3 rule 1: 1xx, 204 and 304 have no body; a 1xx is followed by the final response.
        if (_status is >= 100 and < 200)
        {
            _state = State.Head;
            _interim = true;
            return true;
        }
        if (_status is 204 or 304)
        {
            _state = State.Head;
        }
        else if (chunked)
        {
            _state = State.ChunkSize;
        }
        else if (contentLength > 0)
        {
            _state = State.FixedBody;
            _remaining = contentLength;
        }
        else if (contentLength == 0)
        {
            _state = State.Head;
        }
        else
        {
            return false; // read-until-close framing is not used by any peer under test
        }
        return true;
    }

    /// <summary>The head just parsed was a 1xx: the final response follows (RFC 9110 §15.2).</summary>
    private bool _interim;

    /// <summary>Chunk-size line, CRLF after chunk data, or a trailer line (RFC 9112 §7.1).</summary>
    private bool LineComplete(out bool finished)
    {
        finished = false;
        var line = _head.AsSpan(0, _headLength).TrimEnd("\r\n"u8);
        var state = _state;
        _headLength = 0;
        switch (state)
        {
            case State.ChunkDataEnd:
                if (line.Length != 0)
                {
                    Broken = true;
                    return false;
                }
                _state = State.ChunkSize;
                return true;
            case State.Trailers:
                finished = line.Length == 0;
                return true;
            default:
                var semi = line.IndexOf((byte)';');
                var hex = semi >= 0 ? line[..semi] : line;
                if (!System.Buffers.Text.Utf8Parser.TryParse(hex, out long size, out var used, 'x') || used != hex.Length)
                {
                    Broken = true;
                    return false;
                }
                if (size == 0)
                {
                    _state = State.Trailers;
                }
                else
                {
                    _state = State.ChunkData;
                    _remaining = size;
                }
                return true;
        }
    }
}
