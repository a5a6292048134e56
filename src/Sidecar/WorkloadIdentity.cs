using Microsoft.Extensions.Logging;
using Sidecar.Core.Identity;

namespace Sidecar;

/// <summary>
/// Chooses where the workload certificate comes from, in pilot-agent's order: certificates mounted as files
/// (the SPIFFE workload credentials directory, then Istio's legacy ./etc/certs), or none. The Istio CA client
/// is the next source in line. The choice is made once at start; the source then rotates by itself.
/// </summary>
internal static class WorkloadIdentity
{
    /// <summary>Our own override: a directory holding cert-chain.pem, key.pem and root-cert.pem.</summary>
    public const string CertDirVariable = "SIDECAR_CERT_DIR";

    public static ICertificateSource? Start(ILogger logger, out IDisposable? lifetime)
    {
        lifetime = null;
        string? dir = Environment.GetEnvironmentVariable(CertDirVariable);
        if (string.IsNullOrEmpty(dir))
        {
            foreach (string candidate in new[] { FileCertificateSourceOptions.IstioWorkloadCredentials, FileCertificateSourceOptions.IstioEtcCerts })
            {
                if (File.Exists(Path.Combine(candidate, "cert-chain.pem")))
                {
                    dir = candidate;
                    break;
                }
            }
        }
        if (string.IsNullOrEmpty(dir)) return null;
        FileCertificateSource files = FileCertificateSource.Start(new FileCertificateSourceOptions(dir), logger);
        lifetime = files;
        return files;
    }
}
