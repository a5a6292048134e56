using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Tls;

/// <summary>
/// The server side of mesh mTLS for one filter chain: turns <see cref="DownstreamTlsOptions"/> plus the current
/// workload certificate into <see cref="SslServerAuthenticationOptions"/>. The options object is rebuilt only when the
/// certificate instance changes, so a handshake normally allocates nothing here and a rotation reaches the next
/// handshake while established connections keep the certificate they negotiated with.
/// </summary>
public sealed class DownstreamTlsContext
{
    private readonly DownstreamTlsOptions _options;
    private readonly ICertificateSource _source;
    private readonly RemoteCertificateValidationCallback _validate;
    private volatile BuiltOptions? _built;

    public DownstreamTlsContext(DownstreamTlsOptions options, ICertificateSource source)
    {
        _options = options;
        _source = source;
        _validate = ValidateClient;
        _ = TlsVersions.ToSslProtocols(options.MinimumVersion, options.MaximumVersion); // refuse an empty range up front
    }

    /// <summary>Options for a handshake starting now; null while the source has no certificate yet.</summary>
    public SslServerAuthenticationOptions? GetServerOptions() => Current()?.Options;

    /// <summary>
    /// Runs the server handshake over <paramref name="inner"/>. On failure the TLS stream is disposed (and the inner
    /// stream with it unless <paramref name="leaveInnerStreamOpen"/>) and the reason is returned for one log line and a counter.
    /// </summary>
    public async ValueTask<TlsHandshakeResult> AuthenticateAsync(Stream inner, bool leaveInnerStreamOpen, CancellationToken cancellationToken)
    {
        var built = Current();
        if (built is null) return new TlsHandshakeResult(null, TlsPeerFailure.NoLocalCertificate);
        var stream = new MeshTlsStream(inner, leaveInnerStreamOpen) { LocalSerial = built.Certificate.SerialNumber };
        return await TlsHandshakes.RunAsync(stream, stream.AuthenticateAsServerAsync(built.Options, cancellationToken)).ConfigureAwait(false);
    }

    private BuiltOptions? Current()
    {
        var certificate = _source.Current;
        if (certificate is null) return null;
        var built = _built;
        if (built is not null && ReferenceEquals(built.Certificate, certificate)) return built;
        // Two handshakes racing on a fresh rotation may both build; both results are equivalent and one wins.
        built = new BuiltOptions(certificate, Build(certificate));
        _built = built;
        return built;
    }

    private SslServerAuthenticationOptions Build(WorkloadCertificate certificate) => new()
    {
        ServerCertificateContext = CertificateContextCache.Get(certificate),
        ClientCertificateRequired = _options.RequireClientCertificate,
        EnabledSslProtocols = TlsVersions.ToSslProtocols(_options.MinimumVersion, _options.MaximumVersion),
        ApplicationProtocols = [.. _options.ApplicationProtocols],
        CertificateChainPolicy = PeerCertificateVerifier.MeshChainPolicy(_options.TrustBundle ?? certificate.TrustBundle),
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = _validate,
        AllowRenegotiation = false,
        AllowTlsResume = true,
    };

    private bool ValidateClient(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        TlsPeerFailure failure;
        SpiffeId peerId = default;
        if (certificate is null && !_options.RequireClientCertificate)
        {
            failure = TlsPeerFailure.None; // one-way TLS is allowed on this chain; a certificate, if sent, is still checked
        }
        else
        {
            failure = PeerCertificateVerifier.Verify(certificate, chain, errors, _options.MatchSubjectAltNames, peerIsClient: true, out peerId);
        }
        if (sender is MeshTlsStream stream)
        {
            stream.PeerFailure = failure;
            stream.PeerId = peerId;
        }
        return failure == TlsPeerFailure.None;
    }

    private sealed record BuiltOptions(WorkloadCertificate Certificate, SslServerAuthenticationOptions Options);
}
