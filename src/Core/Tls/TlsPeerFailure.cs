namespace Sidecar.Core.Tls;

/// <summary>
/// Why a peer's certificate was refused during a handshake. Callers log it once per connection and count it
/// (Envoy's <c>ssl.fail_verify_*</c> stats have the same split).
/// </summary>
public enum TlsPeerFailure
{
    None = 0,
    /// <summary>We have no certificate of our own yet (the source is still empty), so no handshake can be done.</summary>
    NoLocalCertificate,
    /// <summary>Downstream: the client sent no certificate though <c>require_client_certificate</c> is set.</summary>
    MissingClientCert,
    /// <summary>Upstream: the server sent no certificate.</summary>
    MissingServerCert,
    /// <summary>The chain does not end at a root of the mesh trust bundle (RFC 5280 §6.1).</summary>
    UntrustedCa,
    /// <summary>The leaf or a certificate of its chain is past notAfter (RFC 5280 §6.1.3 (a)(2)).</summary>
    Expired,
    /// <summary>The leaf or a certificate of its chain is before notBefore (RFC 5280 §6.1.3 (a)(2)).</summary>
    NotYetValid,
    /// <summary>A signature in the chain does not verify.</summary>
    BadSignature,
    /// <summary>Some other chain error (constraints, usage, policy).</summary>
    InvalidChain,
    /// <summary>No subjectAltName matches <c>match_typed_subject_alt_names</c> / the expected peer identity.</summary>
    WrongSan,
    /// <summary>The handshake itself failed (protocol error, no common version/ALPN, peer went away, garbage bytes).</summary>
    HandshakeFailed,
    /// <summary>The handshake did not finish in time.</summary>
    Timeout,
}
