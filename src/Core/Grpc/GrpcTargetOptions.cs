using Sidecar.Core.Identity;
using Sidecar.Core.Tls;

namespace Sidecar.Core.Grpc;

/// <summary>
/// Where a control-plane gRPC client connects and how (istiod's CA on 15012, xDS on 15012/15010). Immutable: a change of
/// target is a new channel.
/// </summary>
/// <param name="Address"><c>host:port</c> as pilot-agent's <c>CA_ADDR</c>/<c>discoveryAddress</c> (IPv6 as <c>[::1]:15012</c>).</param>
public sealed record GrpcTargetOptions(string Address)
{
    /// <summary>h2c with prior knowledge (istiod's plaintext port 15010, tests). Everything below about TLS is then unused.</summary>
    public bool Plaintext { get; init; }

    /// <summary>
    /// The only roots the server's chain may lead to (pilot-agent: <c>/var/run/secrets/istio/root-cert.pem</c>); the
    /// system store is never consulted. Required unless <see cref="Plaintext"/>.
    /// </summary>
    public TrustBundle? Roots { get; init; }

    /// <summary>
    /// SNI and the DNS SAN the server must present; null uses the host of <see cref="Address"/> (pilot-agent:
    /// <c>ISTIOD_SAN</c>, else the address host).
    /// </summary>
    public string? ServerName { get; init; }

    /// <summary>Accepted server SANs; empty means "DNS exact <see cref="ServerName"/>" (URI SANs need an explicit matcher).</summary>
    public IReadOnlyList<SanMatcher> ServerSubjectAltNames { get; init; } = [];

    /// <summary>Client certificate for mTLS, read at each new connection (so a rotation reaches the next one); none when null or empty.</summary>
    public ICertificateSource? ClientCertificate { get; init; }

    /// <summary>File whose content is sent as <c>authorization: Bearer …</c>, read at each call (Kubernetes rotates projected tokens).</summary>
    public string? TokenFile { get; init; }

    /// <summary>Sent as the <c>ClusterID</c> header (pilot-agent's <c>CLUSTER_ID</c>); omitted when null or empty.</summary>
    public string? ClusterId { get; init; }

    /// <summary>HTTP/2 PING after this much idle time, so a dead connection (NAT drop, istiod gone) is noticed on a quiet stream.</summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a PING may stay unanswered before the connection is closed.</summary>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>TCP connect + TLS handshake budget for one connection attempt.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest response message accepted (xDS snapshots can be large; Istio's agent allows 4 MiB by default too).</summary>
    public int MaxReceiveMessageBytes { get; init; } = 4 * 1024 * 1024;
}
