using System.Runtime.CompilerServices;

namespace Sidecar.Core.Http1;

/// <summary>Character classes of RFC 9110 §5.6.2 (token) and §5.5 (field-value), as lookup tables.</summary>
internal static class HttpChars
{
    // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    private static ReadOnlySpan<byte> TokenTable =>
    [
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,1,0,1,1,1,1,1,0,0,1,1,0,1,1,0, 1,1,1,1,1,1,1,1,1,1,0,0,0,0,0,0,
        0,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,0,0,0,1,1,
        1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,0,1,0,1,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    ];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsToken(byte b) => TokenTable[b] != 0;

    public static bool IsToken(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty) return false;
        foreach (byte b in s)
        {
            if (TokenTable[b] == 0) return false;
        }
        return true;
    }

    /// <summary>field-vchar = VCHAR / obs-text, plus SP and HTAB inside a value (RFC 9110 §5.5).</summary>
    public static bool IsFieldValue(ReadOnlySpan<byte> s)
    {
        foreach (byte b in s)
        {
            if (b < 0x20 ? b != (byte)'\t' : b == 0x7F) return false;
        }
        return true;
    }

    /// <summary>request-target bytes: visible ASCII and obs-text, no CTL or SP (RFC 9112 §3.2).</summary>
    public static bool IsTargetChar(byte b) => b > 0x20 && b != 0x7F;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte ToLower(byte b) => (uint)(b - 'A') <= 'Z' - 'A' ? (byte)(b | 0x20) : b;

    public static bool EqualsIgnoreCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> lowerB) =>
        System.Text.Ascii.EqualsIgnoreCase(a, lowerB);
}
