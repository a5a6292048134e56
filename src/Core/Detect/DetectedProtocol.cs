namespace Sidecar.Core.Detect;

/// <summary>What the first bytes of a downstream connection look like.</summary>
public enum DetectedProtocol : byte
{
    /// <summary>Not decided yet (only with <see cref="DetectStatus.NeedMoreData"/>).</summary>
    Unknown,

    /// <summary>A TLS handshake record carrying a ClientHello; transport protocol "tls".</summary>
    Tls,

    /// <summary>The HTTP/2 prior-knowledge connection preface (RFC 9113 §3.4), cleartext.</summary>
    Http2,

    /// <summary>An HTTP/1.x request line (RFC 9112 §3), cleartext.</summary>
    Http1,

    /// <summary>Anything else: raw TCP, proxied as opaque bytes ("raw_buffer").</summary>
    Opaque,
}
