namespace Sidecar.Core.Detect;

/// <summary>
/// Bounds-checked big-endian reader over a span (TLS vectors, RFC 8446 §3.4). Every read checks the
/// remaining length first, so a hostile length field can only make a read fail, never overrun.
/// </summary>
internal ref struct SpanCursor
{
    private ReadOnlySpan<byte> _rest;

    public SpanCursor(ReadOnlySpan<byte> data) => _rest = data;

    public readonly int Remaining => _rest.Length;

    public bool TryReadUInt8(out int value)
    {
        if (_rest.Length < 1)
        {
            value = 0;
            return false;
        }

        value = _rest[0];
        _rest = _rest[1..];
        return true;
    }

    public bool TryReadUInt16(out int value)
    {
        if (_rest.Length < 2)
        {
            value = 0;
            return false;
        }

        value = (_rest[0] << 8) | _rest[1];
        _rest = _rest[2..];
        return true;
    }

    public bool TrySkip(int count)
    {
        if ((uint)count > (uint)_rest.Length)
        {
            return false;
        }

        _rest = _rest[count..];
        return true;
    }

    public bool TryReadBytes(int count, out ReadOnlySpan<byte> bytes)
    {
        if ((uint)count > (uint)_rest.Length)
        {
            bytes = default;
            return false;
        }

        bytes = _rest[..count];
        _rest = _rest[count..];
        return true;
    }

    /// <summary>Reads a vector with an 8-bit length prefix (RFC 8446 §3.4 &lt;floor..2^8-1&gt;).</summary>
    public bool TryReadVector8(out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        return TryReadUInt8(out int length) && TryReadBytes(length, out bytes);
    }

    /// <summary>Reads a vector with a 16-bit length prefix (RFC 8446 §3.4 &lt;floor..2^16-1&gt;).</summary>
    public bool TryReadVector16(out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        return TryReadUInt16(out int length) && TryReadBytes(length, out bytes);
    }
}
