namespace Sidecar.Core.Detect;

/// <summary>
/// Recognises the start of an HTTP/1.x request line (RFC 9112 §3: method SP request-target SP
/// HTTP-version) from as few bytes as possible, without allocating.
/// </summary>
internal static class Http1RequestLine
{
    /// <summary>
    /// Longest method token we accept. The longest IANA-registered method is "UPDATEREDIRECTREF" (17);
    /// anything much longer is not HTTP and should not keep the connection waiting.
    /// </summary>
    public const int MaxMethodLength = 24;

    /// <summary>
    /// Decides whether <paramref name="head"/> starts an HTTP/1 request line.
    /// Known methods decide at the SP after the method ("GET " is enough). Extension methods are plain
    /// tokens, and so are the first words of many raw TCP protocols ("set k v" for Redis), so for them we
    /// also require the rest of the line to look like "request-target SP HTTP/1." DIGIT.
    /// </summary>
    /// <param name="head">The first bytes of the stream.</param>
    /// <param name="atProbeLimit">True when no more bytes will be looked at; an undecided line is then not HTTP/1.</param>
    /// <returns>True/false once decided; null when more bytes are needed.</returns>
    public static bool? Matches(ReadOnlySpan<byte> head, bool atProbeLimit)
    {
        // RFC 9112 §3.1: method = token (RFC 9110 §5.6.2), followed by a single SP.
        int sp = 0;
        while (true)
        {
            if (sp == head.Length)
            {
                return atProbeLimit ? false : null;
            }

            byte b = head[sp];
            if (b == (byte)' ')
            {
                break;
            }

            if (!IsTokenChar(b) || sp == MaxMethodLength)
            {
                return false;
            }

            sp++;
        }

        if (sp == 0)
        {
            return false;
        }

        if (IsKnownMethod(head[..sp]))
        {
            return true;
        }

        return MatchesTargetAndVersion(head[(sp + 1)..], atProbeLimit);
    }

    /// <summary>RFC 9110 §5.6.2 tchar: "!#$%&'*+-.^_`|~" / DIGIT / ALPHA.</summary>
    public static bool IsTokenChar(byte b) => b switch
    {
        >= (byte)'a' and <= (byte)'z' => true,
        >= (byte)'A' and <= (byte)'Z' => true,
        >= (byte)'0' and <= (byte)'9' => true,
        (byte)'!' or (byte)'#' or (byte)'$' or (byte)'%' or (byte)'&' or (byte)'\'' or (byte)'*'
            or (byte)'+' or (byte)'-' or (byte)'.' or (byte)'^' or (byte)'_' or (byte)'`' or (byte)'|'
            or (byte)'~' => true,
        _ => false,
    };

    /// <summary>
    /// RFC 9110 §9.1 methods, PATCH (RFC 5789) and the WebDAV methods (RFC 4918 §9) seen on meshes.
    /// Methods are case-sensitive (RFC 9110 §9.1), so "get " is not a known method.
    /// </summary>
    private static bool IsKnownMethod(ReadOnlySpan<byte> m) => m.Length switch
    {
        3 => m.SequenceEqual("GET"u8) || m.SequenceEqual("PUT"u8),
        4 => m.SequenceEqual("POST"u8) || m.SequenceEqual("HEAD"u8) || m.SequenceEqual("COPY"u8)
            || m.SequenceEqual("MOVE"u8) || m.SequenceEqual("LOCK"u8),
        5 => m.SequenceEqual("PATCH"u8) || m.SequenceEqual("TRACE"u8) || m.SequenceEqual("MKCOL"u8),
        6 => m.SequenceEqual("DELETE"u8) || m.SequenceEqual("UNLOCK"u8),
        7 => m.SequenceEqual("OPTIONS"u8) || m.SequenceEqual("CONNECT"u8),
        8 => m.SequenceEqual("PROPFIND"u8),
        9 => m.SequenceEqual("PROPPATCH"u8),
        _ => false,
    };

    /// <summary>
    /// RFC 9112 §3.2 request-target has no SP or CTLs; RFC 9112 §2.3 HTTP-version = "HTTP/" DIGIT "." DIGIT.
    /// Only HTTP/1.x is accepted: "HTTP/2.0" here is the HTTP/2 preface, handled elsewhere.
    /// </summary>
    private static bool? MatchesTargetAndVersion(ReadOnlySpan<byte> rest, bool atProbeLimit)
    {
        int i = 0;
        while (true)
        {
            if (i == rest.Length)
            {
                return atProbeLimit ? false : null;
            }

            byte b = rest[i];
            if (b == (byte)' ')
            {
                break;
            }

            if (b is < 0x21 or > 0x7E)
            {
                return false;
            }

            i++;
        }

        if (i == 0)
        {
            return false;
        }

        ReadOnlySpan<byte> version = rest[(i + 1)..];
        ReadOnlySpan<byte> expected = "HTTP/1."u8;
        int n = Math.Min(version.Length, expected.Length);
        if (!version[..n].SequenceEqual(expected[..n]))
        {
            return false;
        }

        if (version.Length <= expected.Length)
        {
            return atProbeLimit ? false : null;
        }

        return version[expected.Length] is >= (byte)'0' and <= (byte)'9';
    }
}
