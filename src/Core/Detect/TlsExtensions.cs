namespace Sidecar.Core.Detect;

/// <summary>
/// Validation of the two ClientHello extensions we read, and conversion of their values into the
/// strings the caller keeps. Validation never allocates; conversion allocates exactly the result.
/// </summary>
internal static class TlsExtensions
{
    /// <summary>RFC 1035 §2.3.4 / RFC 6066 §3: a DNS host name fits in 255 octets.</summary>
    public const int MaxHostNameLength = 255;

    /// <summary>RFC 6066 §3 NameType host_name(0).</summary>
    private const int NameTypeHostName = 0;

    /// <summary>
    /// RFC 6066 §3: struct { ServerName server_name_list&lt;1..2^16-1&gt; } ServerNameList, where
    /// ServerName is name_type(1) followed by opaque HostName&lt;1..2^16-1&gt;. The list "MUST NOT
    /// contain more than one name of the same name_type".
    /// </summary>
    public static bool TryReadServerName(ReadOnlySpan<byte> extensionData, out ReadOnlySpan<byte> hostName)
    {
        hostName = default;
        var outer = new SpanCursor(extensionData);
        if (!outer.TryReadVector16(out ReadOnlySpan<byte> list) || outer.Remaining != 0 || list.IsEmpty)
        {
            return false;
        }

        var names = new SpanCursor(list);
        while (names.Remaining > 0)
        {
            // Every name type defined so far carries a 16-bit-length vector; skip unknown types the
            // same way instead of rejecting them (RFC 6066 §3 leaves room for new types).
            if (!names.TryReadUInt8(out int nameType) || !names.TryReadVector16(out ReadOnlySpan<byte> name))
            {
                return false;
            }

            if (nameType != NameTypeHostName)
            {
                continue;
            }

            if (!hostName.IsEmpty || !IsValidHostName(name))
            {
                return false;
            }

            hostName = name;
        }

        return true;
    }

    /// <summary>
    /// RFC 7301 §3.1: struct { ProtocolName protocol_name_list&lt;2..2^16-1&gt; } with
    /// opaque ProtocolName&lt;1..2^8-1&gt;; "Empty strings MUST NOT be included".
    /// </summary>
    public static bool IsValidProtocolNameList(ReadOnlySpan<byte> extensionData, out ReadOnlySpan<byte> list)
    {
        var outer = new SpanCursor(extensionData);
        if (!outer.TryReadVector16(out list) || outer.Remaining != 0 || list.Length < 2)
        {
            return false;
        }

        var names = new SpanCursor(list);
        while (names.Remaining > 0)
        {
            if (!names.TryReadVector8(out ReadOnlySpan<byte> name) || name.IsEmpty)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>One string for the lower-cased host name (ASCII only, as validated).</summary>
    public static string ToLowerAsciiString(ReadOnlySpan<byte> hostName)
    {
        Span<char> chars = stackalloc char[MaxHostNameLength];
        for (int i = 0; i < hostName.Length; i++)
        {
            byte b = hostName[i];
            chars[i] = (char)(b is >= (byte)'A' and <= (byte)'Z' ? b + 32 : b);
        }

        return new string(chars[..hostName.Length]);
    }

    /// <summary>One array for a validated ProtocolNameList; well-known names are not re-allocated.</summary>
    public static string[] ToProtocolNames(ReadOnlySpan<byte> list)
    {
        int count = 0;
        for (var c = new SpanCursor(list); c.TryReadVector8(out _);)
        {
            count++;
        }

        var result = new string[count];
        var names = new SpanCursor(list);
        for (int i = 0; i < count; i++)
        {
            names.TryReadVector8(out ReadOnlySpan<byte> name);
            result[i] = WellKnown(name) ?? System.Text.Encoding.Latin1.GetString(name);
        }

        return result;
    }

    /// <summary>
    /// RFC 6066 §3: HostName is an ASCII DNS name; we accept printable ASCII without spaces (so the
    /// value can never smuggle NUL or control bytes into logs or matching), 1..255 octets.
    /// </summary>
    private static bool IsValidHostName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name.Length > MaxHostNameLength)
        {
            return false;
        }

        foreach (byte b in name)
        {
            if (b is < 0x21 or > 0x7E)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>IANA ALPN IDs common on a mesh, returned as interned literals.</summary>
    private static string? WellKnown(ReadOnlySpan<byte> name)
    {
        if (name.SequenceEqual("h2"u8))
        {
            return "h2";
        }

        if (name.SequenceEqual("http/1.1"u8))
        {
            return "http/1.1";
        }

        if (name.SequenceEqual("http/1.0"u8))
        {
            return "http/1.0";
        }

        if (name.SequenceEqual("istio"u8))
        {
            return "istio";
        }

        if (name.SequenceEqual("istio-peer-exchange"u8))
        {
            return "istio-peer-exchange";
        }

        if (name.SequenceEqual("istio-http/1.0"u8))
        {
            return "istio-http/1.0";
        }

        if (name.SequenceEqual("istio-http/1.1"u8))
        {
            return "istio-http/1.1";
        }

        return name.SequenceEqual("istio-h2"u8) ? "istio-h2" : null;
    }
}
