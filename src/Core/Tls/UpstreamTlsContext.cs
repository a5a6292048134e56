using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Tls;

/// <summary>
/// The client side of mesh mTLS for one cluster: <see cref="UpstreamTlsOptions"/> plus the current workload certificate
/// become <see cref="SslClientAuthenticationOptions"/> (client certificate, SNI, ALPN, mesh-root chain policy, SAN check).
/// Rebuilt only when the certificate instance changes.
/// </summary>
public sealed class UpstreamTlsContext
{
    private readonly UpstreamTlsOptions _options;
    private readonly ICertificateSource? _source;
    private readonly RemoteCertificateValidationCallback _validate;
    private volatile BuiltOptions? _built;

    /// <param name="source">The workload certificate (and, unless the options carry roots, the mesh roots); null for
    /// origination without a client certificate (Envoy SIMPLE TLS), which then needs explicit roots or no verification.</param>
    public UpstreamTlsContext(UpstreamTlsOptions options, ICertificateSource? source)
    {
        if (source is null && options.PresentClientCertificate)
            throw new ArgumentException("a client certificate needs a certificate source", nameof(source));
        if (source is null && options.VerifyServer && options.TrustBundle is null)
            throw new ArgumentException("verifying the server needs roots: a trust bundle or a certificate source", nameof(options));
        _options = options;
        _source = source;
        _validate = ValidateServer;
        _ = TlsVersions.ToSslProtocols(options.MinimumVersion, options.MaximumVersion);
    }

    /// <summary>Options for a handshake starting now; null while the source has no certificate (and hence no mesh roots) yet.</summary>
    public SslClientAuthenticationOptions? GetClientOptions() => Current()?.Options;

    /// <summary>Runs the client handshake; see <see cref="DownstreamTlsContext.AuthenticateAsync"/> for the failure contract.</summary>
    public async ValueTask<TlsHandshakeResult> AuthenticateAsync(Stream inner, bool leaveInnerStreamOpen, CancellationToken cancellationToken)
    {
        var built = Current();
        if (built is null) return new TlsHandshakeResult(null, TlsPeerFailure.NoLocalCertificate);
        var stream = new MeshTlsStream(inner, leaveInnerStreamOpen) { LocalSerial = built.Certificate?.SerialNumber };
        return await TlsHandshakes.RunAsync(stream, stream.AuthenticateAsClientAsync(built.Options, cancellationToken)).ConfigureAwait(false);
    }

    private BuiltOptions? Current()
    {
        var certificate = _source?.Current;
        if (certificate is null && _source is not null) return null;
        var built = _built;
        if (built is not null && ReferenceEquals(built.Certificate, certificate)) return built;
        built = new BuiltOptions(certificate, Build(certificate));
        _built = built;
        return built;
    }

    private SslClientAuthenticationOptions Build(WorkloadCertificate? certificate) => new()
    {
        TargetHost = _options.ServerName ?? "",
        ClientCertificateContext = _options.PresentClientCertificate && certificate is not null ? CertificateContextCache.Get(certificate) : null,
        EnabledSslProtocols = TlsVersions.ToSslProtocols(_options.MinimumVersion, _options.MaximumVersion),
        ApplicationProtocols = [.. _options.ApplicationProtocols],
        CertificateChainPolicy = (_options.TrustBundle ?? certificate?.TrustBundle) is { } roots ? PeerCertificateVerifier.MeshChainPolicy(roots) : null,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = _validate,
        AllowRenegotiation = false,
        AllowTlsResume = true,
    };

    private bool ValidateServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        SpiffeId peerId = default;
        var failure = _options.VerifyServer
            ? PeerCertificateVerifier.Verify(certificate, chain, errors, _options.MatchSubjectAltNames, peerIsClient: false, out peerId)
            : TlsPeerFailure.None; // no validation context: Envoy accepts any server certificate
        if (sender is MeshTlsStream stream)
        {
            stream.PeerFailure = failure;
            stream.PeerId = peerId;
        }
        return failure == TlsPeerFailure.None;
    }

    private sealed record BuiltOptions(WorkloadCertificate? Certificate, SslClientAuthenticationOptions Options);
}
