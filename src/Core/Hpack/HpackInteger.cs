using System.Buffers;

namespace Sidecar.Core.Hpack;

/// <summary>HPACK prefix-coded integers (RFC 7541 §5.1).</summary>
public static class HpackInteger
{
    /// <summary>
    /// At most this many continuation bytes after the prefix: 5 × 7 bits covers 2^31. More is treated as an attack
    /// (RFC 7541 §5.1 lets a decoder limit the encoded length; §7.4 warns about integer overflow).
    /// </summary>
    public const int MaxContinuationBytes = 5;

    /// <summary>The largest encoded size of an int with any prefix: one prefix byte and five continuation bytes.</summary>
    public const int MaxEncodedLength = 1 + MaxContinuationBytes;

    /// <summary>Bytes needed to encode <paramref name="value"/> with an N-bit prefix.</summary>
    public static int GetEncodedLength(int value, int prefixBits)
    {
        int max = (1 << prefixBits) - 1;
        if (value < max) return 1;
        int length = 2;
        for (uint rest = (uint)(value - max); rest >= 0x80; rest >>= 7) length++;
        return length;
    }

    /// <summary>
    /// Writes <paramref name="value"/> with an N-bit prefix; <paramref name="pattern"/> supplies the bits above the
    /// prefix in the first byte (the representation type). False when <paramref name="destination"/> is too small.
    /// </summary>
    public static bool TryEncode(int value, int prefixBits, byte pattern, Span<byte> destination, out int written)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        written = 0;
        if (destination.IsEmpty) return false;
        int max = (1 << prefixBits) - 1;
        if (value < max)
        {
            destination[0] = (byte)(pattern | value);
            written = 1;
            return true;
        }
        destination[0] = (byte)(pattern | max);
        int pos = 1;
        uint rest = (uint)(value - max);
        while (rest >= 0x80)
        {
            if (pos >= destination.Length) return false;
            destination[pos++] = (byte)(rest | 0x80);
            rest >>= 7;
        }
        if (pos >= destination.Length) return false;
        destination[pos++] = (byte)rest;
        written = pos;
        return true;
    }

    /// <summary>
    /// Reads an integer with an N-bit prefix from the start of <paramref name="source"/> (the bits above the prefix in
    /// the first byte are ignored). <see cref="OperationStatus.NeedMoreData"/> when it continues past the end;
    /// <see cref="OperationStatus.InvalidData"/> when it exceeds int.MaxValue or uses more than
    /// <see cref="MaxContinuationBytes"/> continuation bytes (RFC 7541 §5.1).
    /// </summary>
    public static OperationStatus TryDecode(ReadOnlySpan<byte> source, int prefixBits, out int value, out int consumed)
    {
        value = 0;
        consumed = 0;
        if (source.IsEmpty) return OperationStatus.NeedMoreData;
        int max = (1 << prefixBits) - 1;
        int prefix = source[0] & max;
        if (prefix < max)
        {
            value = prefix;
            consumed = 1;
            return OperationStatus.Done;
        }
        long result = max;
        for (int i = 0; i < MaxContinuationBytes; i++)
        {
            if (1 + i >= source.Length) return OperationStatus.NeedMoreData;
            byte b = source[1 + i];
            result += (long)(b & 0x7F) << (7 * i);
            if (result > int.MaxValue) return OperationStatus.InvalidData;
            if ((b & 0x80) == 0)
            {
                value = (int)result;
                consumed = 2 + i;
                return OperationStatus.Done;
            }
        }
        return OperationStatus.InvalidData;
    }
}
