namespace Sidecar.Core.Identity.IstioCa;

/// <summary>Why one certificate fetch from Istio's CA produced no certificate. The previous certificate stays in service.</summary>
public enum IstioCaError
{
    None = 0,
    /// <summary>The root-cert file (<c>/var/run/secrets/istio/root-cert.pem</c>) is missing or unreadable.</summary>
    RootFileUnreadable,
    /// <summary>The root-cert file holds no valid root.</summary>
    RootInvalid,
    /// <summary><c>CA_ADDR</c> is not <c>host:port</c>.</summary>
    AddressInvalid,
    /// <summary>The service-account token file is missing, unreadable or empty.</summary>
    TokenUnreadable,
    /// <summary>istiod's TLS certificate was refused (untrusted CA, wrong SAN, expired...) or the handshake broke.</summary>
    ServerTlsRefused,
    /// <summary>The call failed: unreachable, deadline, or a non-OK gRPC status from the CA.</summary>
    CallFailed,
    /// <summary>The response is not a valid <c>IstioCertificateResponse</c>.</summary>
    ResponseMalformed,
    /// <summary><c>cert_chain</c> has fewer than two entries (pilot-agent refuses that too: leaf and root are both required).</summary>
    ChainTooShort,
    /// <summary>The chain does not load with our key (unparsable, key mismatch, expired, not yet valid): see the detail.</summary>
    CertificateRefused,
    /// <summary>The leaf's SPIFFE ID is not the one we asked for (or it has none).</summary>
    WrongIdentity,
    /// <summary>The issued chain does not lead to a root of the root-cert file.</summary>
    UntrustedChain,
}
