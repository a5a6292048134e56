namespace Sidecar.Core.Detect;

/// <summary>Outcome of <see cref="ClientHelloParser.TryParse"/>.</summary>
public enum ClientHelloStatus : byte
{
    /// <summary>The bytes so far are a valid prefix of a ClientHello; read more and call again.</summary>
    NeedMoreData,

    /// <summary>A complete, well-formed ClientHello was parsed; the <see cref="ClientHelloInfo"/> is filled.</summary>
    Ok,

    /// <summary>
    /// The stream does not start with a TLS handshake record carrying a ClientHello (the same test as
    /// <see cref="ProtocolDetector"/>): treat it as "raw_buffer".
    /// </summary>
    NotTls,

    /// <summary>
    /// It starts like a ClientHello but a length or field is invalid, the handshake is interleaved with
    /// another record type, or it is larger than <see cref="ClientHelloParser.MaxClientHelloBytes"/>.
    /// Envoy's tls_inspector closes such connections; so should the caller.
    /// </summary>
    Malformed,
}
