using Sidecar.Core.Identity;
using Sidecar.Core.Tls;

namespace Sidecar.Core.Config.Model;

/// <summary>
/// Where a TLS context's certificate and trusted roots come from: inline/file PEM already loaded at config time,
/// or an SDS secret name bound at snapshot build to the workload's certificate source — <c>default</c> (the
/// workload certificate) and <c>ROOTCA</c> (the mesh roots), the two names istio-proxy asks its agent for.
/// </summary>
public sealed class TlsSecretsModel
{
    /// <summary>istio-proxy's SDS name for the workload certificate.</summary>
    public const string WorkloadCertificate = "default";

    /// <summary>istio-proxy's SDS name for the mesh trust bundle.</summary>
    public const string MeshRoots = "ROOTCA";

    /// <summary>SDS name of the certificate (<c>tls_certificate_sds_secret_configs</c>), or null.</summary>
    public string? CertificateSds { get; init; }

    /// <summary>A certificate from <c>tls_certificates</c> (loaded and checked when the config was read), or null.</summary>
    public WorkloadCertificate? InlineCertificate { get; init; }

    /// <summary>SDS name of the validation context (<c>validation_context_sds_secret_config</c>), or null.</summary>
    public string? TrustSds { get; init; }

    /// <summary>Roots from <c>validation_context.trusted_ca</c>, or null.</summary>
    public TrustBundle? InlineTrust { get; init; }

    public bool HasCertificate => CertificateSds is not null || InlineCertificate is not null;
    public bool HasTrust => TrustSds is not null || InlineTrust is not null;
}

/// <summary><c>transport_socket: envoy.transport_sockets.tls</c> with a <c>DownstreamTlsContext</c>, on a filter chain.</summary>
public sealed class DownstreamTlsModel
{
    public required DownstreamTlsOptions Options { get; init; }
    public required TlsSecretsModel Secrets { get; init; }

    /// <summary>Filter chain <c>transport_socket_connect_timeout</c>; Envoy has none by default, we bound it (a stalled handshake holds a slot).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary><c>transport_socket: envoy.transport_sockets.tls</c> with an <c>UpstreamTlsContext</c>, on a cluster.</summary>
public sealed class UpstreamTlsModel
{
    public required UpstreamTlsOptions Options { get; init; }
    public required TlsSecretsModel Secrets { get; init; }
}
