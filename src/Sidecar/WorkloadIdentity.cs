using Microsoft.Extensions.Logging;
using Sidecar.Core.Identity;
using Sidecar.Core.Identity.IstioCa;

namespace Sidecar;

/// <summary>
/// Chooses where the workload certificate comes from, in pilot-agent's order: certificates mounted as files
/// (<c>SIDECAR_CERT_DIR</c>, the SPIFFE workload credentials directory, Istio's legacy ./etc/certs), else Istio's CA
/// when the pod identity is known (<c>POD_NAMESPACE</c> + <c>SERVICE_ACCOUNT</c>; <c>CA_ADDR</c>, default
/// istiod.istio-system.svc:15012), else none (TLS contexts naming SDS secrets are then refused at start).
/// The choice is made once; the source then rotates by itself.
/// </summary>
internal static class WorkloadIdentity
{
    /// <summary>Our own override: a directory holding cert-chain.pem, key.pem and root-cert.pem.</summary>
    public const string CertDirVariable = "SIDECAR_CERT_DIR";

    /// <summary>How long the start waits for the CA's first certificate before serving without one (handshakes then fail, counted).</summary>
    private static readonly TimeSpan FirstCertificateWait = TimeSpan.FromSeconds(30);

    public static async Task<(ICertificateSource? Source, IAsyncDisposable? Lifetime, string? Error)> StartAsync(ILogger logger)
    {
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
        if (!string.IsNullOrEmpty(dir))
        {
            FileCertificateSource files = FileCertificateSource.Start(new FileCertificateSourceOptions(dir), logger);
            return (files, new SyncDisposer(files), null);
        }

        IstioCaOptionsError optionsError = IstioCaOptions.TryFromEnvironment(Environment.GetEnvironmentVariable, out IstioCaOptions? options);
        if (optionsError == IstioCaOptionsError.IdentityMissing) return (null, null, null); // not in a mesh pod: no identity
        if (optionsError != IstioCaOptionsError.None) return (null, null, $"Istio CA settings: {optionsError}");
        options = options! with { TokenFile = TokenFile() };
        IstioCaCertificateSource ca = IstioCaCertificateSource.Start(options, logger);
        try
        {
            using var wait = new CancellationTokenSource(FirstCertificateWait);
            WorkloadCertificate first = await ca.WaitForFirstAsync(wait.Token);
            HostLog.CaCertificate(logger, options!.Address, first.SpiffeId, first.SerialNumber);
        }
        catch (OperationCanceledException)
        {
            HostLog.CaSlow(logger, options!.Address, FirstCertificateWait.TotalSeconds);
        }
        return (ca, ca, null);
    }

    /// <summary>
    /// The service-account token presented to the CA: <c>SIDECAR_TOKEN_FILE</c> (ours), else by pilot-agent's
    /// <c>JWT_POLICY</c>: <c>first-party-jwt</c> → the pod's default service-account token, otherwise the projected
    /// <c>istio-token</c>.
    /// </summary>
    private static string TokenFile() =>
        Environment.GetEnvironmentVariable("SIDECAR_TOKEN_FILE") is { Length: > 0 } file ? file
        : Environment.GetEnvironmentVariable("JWT_POLICY") == "first-party-jwt" ? "/var/run/secrets/kubernetes.io/serviceaccount/token"
        : IstioCaOptions.DefaultTokenFile;

    private sealed class SyncDisposer(IDisposable inner) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            inner.Dispose();
            return default;
        }
    }
}
