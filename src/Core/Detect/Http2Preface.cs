namespace Sidecar.Core.Detect;

/// <summary>The HTTP/2 client connection preface used with prior knowledge (RFC 9113 §3.4).</summary>
internal static class Http2Preface
{
    /// <summary>RFC 9113 §3.4: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (24 octets).</summary>
    public static ReadOnlySpan<byte> Bytes => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>
    /// True when <paramref name="head"/> is the preface or a prefix of it. A mismatch is visible at the
    /// first differing byte, so a non-HTTP/2 stream never waits for all 24 bytes.
    /// </summary>
    public static bool IsPrefixOrWhole(ReadOnlySpan<byte> head)
    {
        ReadOnlySpan<byte> preface = Bytes;
        int n = Math.Min(head.Length, preface.Length);
        return head[..n].SequenceEqual(preface[..n]);
    }
}
