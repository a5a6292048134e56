using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Xds.Secrets;

/// <summary>
/// The certificate source of one TLS context whose certificate and/or roots are SDS secrets other than the plain
/// workload pair: e.g. <c>kubernetes://gw-cred</c> + <c>kubernetes://gw-cred-cacert</c>, <c>default</c> + a
/// <c>file-root:</c> bundle, or roots alone for a client that presents no certificate. <see cref="Current"/> combines
/// the slots' current values and caches the result by their references, so a handshake normally reads two volatile
/// fields and allocates nothing; a rotation of either slot yields a new instance for the next handshake.
/// </summary>
public sealed class SdsCertificateSource : ICertificateSource
{
    private readonly ISecretSlot? _certificate;
    private readonly ISecretSlot? _trust;
    private volatile Combined? _combined;

    /// <param name="certificate">Where the certificate comes from; null when the context presents none (roots only).</param>
    /// <param name="trust">Where the roots come from; null: the certificate's own (its chain, or the workload bundle).</param>
    public SdsCertificateSource(ISecretSlot? certificate, ISecretSlot? trust)
    {
        if (certificate is null && trust is null) throw new ArgumentException("a certificate or a trust slot is needed");
        _certificate = certificate;
        _trust = trust;
    }

    /// <summary>Raised by the first handshake that sees a new combination (slots change without telling their readers).</summary>
    public event Action<WorkloadCertificate>? Changed;

    public WorkloadCertificate? Current
    {
        get
        {
            SdsSecretValue? certificate = _certificate?.Current;
            SdsSecretValue? trust = _trust?.Current;
            Combined? combined = _combined;
            if (combined is not null && ReferenceEquals(combined.Certificate, certificate) && ReferenceEquals(combined.Trust, trust)) return combined.Value;
            WorkloadCertificate? value = Combine(certificate, trust);
            _combined = new Combined(certificate, trust, value);
            if (value is not null) Changed?.Invoke(value);
            return value;
        }
    }

    private WorkloadCertificate? Combine(SdsSecretValue? certificate, SdsSecretValue? trust)
    {
        if (_certificate is not null && certificate?.Certificate is null) return null; // not received yet
        if (_trust is not null && trust?.Trust is null) return null;
        WorkloadCertificate leaf = certificate?.Certificate ?? Placeholder.Value;
        TrustBundle roots = trust?.Trust ?? leaf.TrustBundle;
        if (_trust is null || ReferenceEquals(roots, leaf.TrustBundle)) return leaf;
        return new WorkloadCertificate(leaf.Leaf, leaf.Intermediates, roots);
    }

    /// <summary>
    /// A context with roots and no certificate (a client verifying a server, presenting nothing) still needs a
    /// <see cref="WorkloadCertificate"/> to carry the roots through <see cref="ICertificateSource"/>; this self-signed
    /// leaf fills the slot and is never sent (UpstreamTlsOptions.PresentClientCertificate is false for such contexts).
    /// </summary>
    private static readonly Lazy<WorkloadCertificate> Placeholder = new(() =>
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=sidecar-roots-only-placeholder", key, HashAlgorithmName.SHA256);
        X509Certificate2 leaf = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddYears(10));
        TrustBundle.TryParse(leaf.ExportCertificatePem(), out TrustBundle? self);
        return new WorkloadCertificate(leaf, [], self!);
    });

    private sealed record Combined(SdsSecretValue? Certificate, SdsSecretValue? Trust, WorkloadCertificate? Value);
}

/// <summary>The workload certificate source seen as a secret slot (<c>default</c> / <c>ROOTCA</c>).</summary>
public sealed class WorkloadSecretSlot(ICertificateSource workload) : ISecretSlot
{
    private volatile SdsSecretValue? _last;

    public SdsSecretValue? Current
    {
        get
        {
            WorkloadCertificate? current = workload.Current;
            if (current is null) return null;
            SdsSecretValue? last = _last;
            if (last is not null && ReferenceEquals(last.Certificate, current)) return last;
            last = new SdsSecretValue(current, current.TrustBundle);
            _last = last;
            return last;
        }
    }
}
