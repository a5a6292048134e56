using System.Globalization;

namespace Sidecar.Core.Identity.IstioCa;

/// <summary>Why <see cref="IstioCaOptions.TryFromEnvironment"/> refused the environment.</summary>
public enum IstioCaOptionsError
{
    None = 0,
    /// <summary><c>POD_NAMESPACE</c> or <c>SERVICE_ACCOUNT</c> is missing: there is no identity to ask for.</summary>
    IdentityMissing,
    /// <summary><c>TRUST_DOMAIN</c>, <c>POD_NAMESPACE</c> or <c>SERVICE_ACCOUNT</c> do not form a valid SPIFFE ID.</summary>
    IdentityInvalid,
    /// <summary><c>SECRET_TTL</c> is not a positive Go duration.</summary>
    TtlInvalid,
    /// <summary><c>SECRET_GRACE_PERIOD_RATIO</c> is not in (0, 1) or its jitter not in [0, ratio).</summary>
    GracePeriodInvalid,
    /// <summary><c>ECC_SIGNATURE_ALGORITHM</c> is set to something other than ECDSA.</summary>
    KeyAlgorithmInvalid,
}

/// <summary>
/// How the Istio CA client asks for certificates; the defaults and env names are pilot-agent's
/// (<c>pilot/cmd/pilot-agent/options/options.go</c>, <c>pkg/security/security.go</c>).
/// </summary>
public sealed record IstioCaOptions(SpiffeId Identity)
{
    public const string DefaultAddress = "istiod.istio-system.svc:15012";
    public const string DefaultRootCertFile = "/var/run/secrets/istio/root-cert.pem";
    public const string DefaultTokenFile = "/var/run/secrets/tokens/istio-token";

    /// <summary><c>CA_ADDR</c>.</summary>
    public string Address { get; init; } = DefaultAddress;

    /// <summary>Roots for istiod's serving certificate and for the chains it issues (the <c>istio-ca-root-cert</c> ConfigMap).</summary>
    public string RootCertFile { get; init; } = DefaultRootCertFile;

    /// <summary>Projected service-account token (audience istio-ca), sent as Bearer and re-read at each call.</summary>
    public string? TokenFile { get; init; } = DefaultTokenFile;

    /// <summary><c>CLUSTER_ID</c>, sent as the <c>ClusterID</c> header.</summary>
    public string? ClusterId { get; init; }

    /// <summary><c>ISTIOD_SAN</c>: the name istiod's certificate must carry when it differs from the address host.</summary>
    public string? IstiodSan { get; init; }

    /// <summary>h2c without TLS (istiod's port 15010, tests).</summary>
    public bool Plaintext { get; init; }

    /// <summary><c>SECRET_TTL</c>: requested lifetime (<c>validity_duration</c>).</summary>
    public TimeSpan CertificateTtl { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// <c>SECRET_GRACE_PERIOD_RATIO</c>: rotate when this fraction of the lifetime is left (0.5 = at half-life), as
    /// pilot-agent's secret cache schedules it: <c>notAfter − (ratio ± jitter) · lifetime</c>.
    /// </summary>
    public double GracePeriodRatio { get; init; } = 0.5;

    /// <summary><c>SECRET_GRACE_PERIOD_RATIO_JITTER</c>: spreads rotations so a fleet started together does not hit istiod together.</summary>
    public double GracePeriodJitter { get; init; } = 0.01;

    /// <summary><c>ECC_SIGNATURE_ALGORITHM</c>.</summary>
    public WorkloadKeyAlgorithm KeyAlgorithm { get; init; } = WorkloadKeyAlgorithm.Rsa2048;

    /// <summary><c>ISTIO_META_CERT_SIGNER</c>, sent as <c>metadata.CertSigner</c>.</summary>
    public string? CertSigner { get; init; }

    /// <summary>Budget of one CreateCertificate call (connect + TLS + signing).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>First retry delay after a failed fetch; doubled per failure up to <see cref="MaxRetryDelay"/>, ±20 % jitter.</summary>
    public TimeSpan InitialRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Reads pilot-agent's environment variables through <paramref name="getVariable"/> (tests pass a dictionary).</summary>
    public static IstioCaOptionsError TryFromEnvironment(Func<string, string?> getVariable, out IstioCaOptions? options)
    {
        options = null;
        var ns = getVariable("POD_NAMESPACE");
        var serviceAccount = getVariable("SERVICE_ACCOUNT");
        if (string.IsNullOrEmpty(ns) || string.IsNullOrEmpty(serviceAccount)) return IstioCaOptionsError.IdentityMissing;
        var trustDomainText = NonEmpty(getVariable("TRUST_DOMAIN")) ?? "cluster.local";
        if (TrustDomain.TryParse(trustDomainText, out var trustDomain) != SpiffeIdError.None ||
            SpiffeId.TryCreateIstio(trustDomain, ns, serviceAccount, out var identity) != SpiffeIdError.None ||
            // A '/' inside a name would still be a valid SPIFFE path, but not the four-segment Istio identity asked for.
            !identity.TryGetIstioIdentity(out var parsedNs, out var parsedSa) || parsedNs != ns || parsedSa != serviceAccount)
        {
            return IstioCaOptionsError.IdentityInvalid;
        }

        var ttl = TimeSpan.FromHours(24);
        if (NonEmpty(getVariable("SECRET_TTL")) is { } ttlText && (!GoDuration.TryParse(ttlText, out ttl) || ttl <= TimeSpan.Zero))
        {
            return IstioCaOptionsError.TtlInvalid;
        }
        var ratio = 0.5;
        var jitter = 0.01;
        if ((NonEmpty(getVariable("SECRET_GRACE_PERIOD_RATIO")) is { } ratioText && !TryParseDouble(ratioText, out ratio)) ||
            (NonEmpty(getVariable("SECRET_GRACE_PERIOD_RATIO_JITTER")) is { } jitterText && !TryParseDouble(jitterText, out jitter)) ||
            ratio is <= 0 or >= 1 || jitter < 0 || jitter >= ratio || ratio + jitter >= 1)
        {
            return IstioCaOptionsError.GracePeriodInvalid;
        }
        var algorithm = WorkloadKeyAlgorithm.Rsa2048;
        if (NonEmpty(getVariable("ECC_SIGNATURE_ALGORITHM")) is { } ecc)
        {
            if (!string.Equals(ecc, "ECDSA", StringComparison.OrdinalIgnoreCase)) return IstioCaOptionsError.KeyAlgorithmInvalid;
            algorithm = WorkloadKeyAlgorithm.EcdsaP256;
        }

        options = new IstioCaOptions(identity)
        {
            Address = NonEmpty(getVariable("CA_ADDR")) ?? DefaultAddress,
            RootCertFile = NonEmpty(getVariable("CA_ROOT_CA")) ?? DefaultRootCertFile,
            ClusterId = NonEmpty(getVariable("CLUSTER_ID")),
            IstiodSan = NonEmpty(getVariable("ISTIOD_SAN")),
            CertificateTtl = ttl,
            GracePeriodRatio = ratio,
            GracePeriodJitter = jitter,
            KeyAlgorithm = algorithm,
            CertSigner = NonEmpty(getVariable("ISTIO_META_CERT_SIGNER")),
        };
        return IstioCaOptionsError.None;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static bool TryParseDouble(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}
