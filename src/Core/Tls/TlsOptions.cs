using System.Net.Security;
using System.Security.Authentication;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Tls;

/// <summary>TLS protocol versions a listener or cluster may allow (Envoy <c>TlsParameters.tls_minimum/maximum_protocol_version</c>).</summary>
public enum TlsVersion
{
    Tls12,
    Tls13,
}

/// <summary>Envoy <c>DownstreamTlsContext</c>, the parts a mesh inbound listener uses.</summary>
public sealed record DownstreamTlsOptions
{
    /// <summary>STRICT/PERMISSIVE mTLS chains set this: a client without a certificate is refused.</summary>
    public bool RequireClientCertificate { get; init; } = true;

    /// <summary><c>match_typed_subject_alt_names</c>; empty accepts any SAN from a trusted chain (Istio's default).</summary>
    public IReadOnlyList<SanMatcher> MatchSubjectAltNames { get; init; } = [];

    /// <summary>Server preference order; the default is what Istio's inbound mTLS chains accept.</summary>
    public IReadOnlyList<SslApplicationProtocol> ApplicationProtocols { get; init; } = IstioAlpn.InboundMesh;

    /// <summary>Istio <c>meshMTLS.minProtocolVersion</c>, TLS 1.2 by default.</summary>
    public TlsVersion MinimumVersion { get; init; } = TlsVersion.Tls12;

    public TlsVersion MaximumVersion { get; init; } = TlsVersion.Tls13;

    /// <summary>Roots to verify clients against; null uses the certificate source's mesh bundle (Istio ROOTCA).</summary>
    public TrustBundle? TrustBundle { get; init; }
}

/// <summary>Envoy <c>UpstreamTlsContext</c>, the parts a mesh outbound cluster uses.</summary>
public sealed record UpstreamTlsOptions
{
    /// <summary>SNI to send; null or empty sends none. Istio sets <c>outbound_.&lt;port&gt;_._.&lt;host&gt;</c>.</summary>
    public string? ServerName { get; init; }

    /// <summary>Accepted server identities (Istio: the destination's service accounts as URI exact); empty accepts any trusted peer.</summary>
    public IReadOnlyList<SanMatcher> MatchSubjectAltNames { get; init; } = [];

    public IReadOnlyList<SslApplicationProtocol> ApplicationProtocols { get; init; } = IstioAlpn.OutboundHttp11;

    public TlsVersion MinimumVersion { get; init; } = TlsVersion.Tls12;

    public TlsVersion MaximumVersion { get; init; } = TlsVersion.Tls13;

    /// <summary>Whether to present the workload certificate (ISTIO_MUTUAL/MUTUAL) or none (SIMPLE).</summary>
    public bool PresentClientCertificate { get; init; } = true;

    /// <summary>Roots to verify the server against; null uses the certificate source's mesh bundle (Istio ROOTCA).</summary>
    public TrustBundle? TrustBundle { get; init; }

    /// <summary>
    /// False when the context has no validation context: Envoy then accepts any server certificate (SIMPLE TLS
    /// without a CA). Mesh clusters always carry ROOTCA, so this is only for explicitly unverified origination.
    /// </summary>
    public bool VerifyServer { get; init; } = true;
}

internal static class TlsVersions
{
    public static SslProtocols ToSslProtocols(TlsVersion minimum, TlsVersion maximum)
    {
        var protocols = SslProtocols.None;
        if (minimum <= TlsVersion.Tls12 && maximum >= TlsVersion.Tls12) protocols |= SslProtocols.Tls12;
        if (maximum >= TlsVersion.Tls13) protocols |= SslProtocols.Tls13;
        return protocols == SslProtocols.None
            ? throw new ArgumentException($"no TLS version between {minimum} and {maximum}")
            : protocols;
    }
}
