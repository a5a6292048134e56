namespace Sidecar.Core.Identity;

/// <summary>
/// Where the workload's current certificate comes from (mounted files, Istio's CA, inline config). TLS code reads
/// <see cref="Current"/> once per handshake, so a rotation reaches the next handshake without touching open connections.
/// </summary>
public interface ICertificateSource
{
    /// <summary>The certificate to present now; null until the first one is available (handshakes then fail).</summary>
    WorkloadCertificate? Current { get; }

    /// <summary>Raised after <see cref="Current"/> changed to a new, valid certificate. Handlers must be quick.</summary>
    event Action<WorkloadCertificate>? Changed;
}

/// <summary>A source with a fixed certificate (inline config, tests); <see cref="Replace"/> lets tests rotate by hand.</summary>
public sealed class StaticCertificateSource(WorkloadCertificate? certificate) : ICertificateSource
{
    private volatile WorkloadCertificate? _current = certificate;

    public WorkloadCertificate? Current => _current;

    public event Action<WorkloadCertificate>? Changed;

    public void Replace(WorkloadCertificate certificate)
    {
        _current = certificate;
        Changed?.Invoke(certificate);
    }
}
