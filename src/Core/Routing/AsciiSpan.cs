using System.Text;

namespace Sidecar.Core.Routing;

/// <summary>
/// Byte-level string helpers for matching raw request bytes against config values without
/// creating strings. Case folding is ASCII-only on purpose: HTTP tokens, hosts and Envoy's
/// <c>ignore_case</c> are defined over ASCII, and anything wider would need a decode step.
/// </summary>
internal static class AsciiSpan
{
    public static byte ToLower(byte b) => (uint)(b - 'A') <= 'Z' - 'A' ? (byte)(b | 0x20) : b;

    public static bool EqualsIgnoreCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            byte x = a[i];
            byte y = b[i];
            if (x != y && ToLower(x) != ToLower(y))
            {
                return false;
            }
        }

        return true;
    }

    public static bool Equals(ReadOnlySpan<byte> s, ReadOnlySpan<byte> value, bool ignoreCase) =>
        ignoreCase ? EqualsIgnoreCase(s, value) : s.SequenceEqual(value);

    public static bool StartsWith(ReadOnlySpan<byte> s, ReadOnlySpan<byte> prefix, bool ignoreCase) =>
        s.Length >= prefix.Length && Equals(s[..prefix.Length], prefix, ignoreCase);

    public static bool EndsWith(ReadOnlySpan<byte> s, ReadOnlySpan<byte> suffix, bool ignoreCase) =>
        s.Length >= suffix.Length && Equals(s[(s.Length - suffix.Length)..], suffix, ignoreCase);

    public static bool Contains(ReadOnlySpan<byte> s, ReadOnlySpan<byte> value, bool ignoreCase)
    {
        if (!ignoreCase)
        {
            return s.IndexOf(value) >= 0;
        }

        // Naive scan is fine: header values and needles are short, and this stays allocation-free.
        for (int i = 0; i + value.Length <= s.Length; i++)
        {
            if (EqualsIgnoreCase(s.Slice(i, value.Length), value))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Widens bytes to chars (Latin-1) while lower-casing ASCII letters; returns chars written.</summary>
    public static int ToLowerChars(ReadOnlySpan<byte> source, Span<char> destination)
    {
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = (char)ToLower(source[i]);
        }

        return source.Length;
    }

    /// <summary>Widens bytes to chars one-to-one (Latin-1) so the regex engine can run over a span.</summary>
    public static void Widen(ReadOnlySpan<byte> source, Span<char> destination) =>
        Encoding.Latin1.GetChars(source, destination);

    /// <summary>Config strings become UTF-8 bytes so they compare with raw request bytes as sent on the wire.</summary>
    public static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);
}
