using Microsoft.Extensions.Logging;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Identity;
using Sidecar.Core.Telemetry;
using Sidecar.Core.Tls;
using Sidecar.Core.Transport;
using Sidecar.Core.Xds.Secrets;

namespace Sidecar.Core.Proxy;

/// <summary>A TLS context the config asks for that this process cannot serve (e.g. SDS with no workload certificate source).</summary>
public sealed class TlsBindingException(string message) : Exception(message);

/// <summary>
/// Binds a config's TLS contexts to certificate sources, as istio-proxy's agent does for SDS: <c>default</c> is the
/// workload certificate and <c>ROOTCA</c> the mesh roots, both from the one workload source (files or Istio's CA);
/// inline certificates become a fixed source. Other SDS names: <c>file-cert:</c>/<c>file-root:</c> are read from the files
/// they name (as istio-agent serves them), anything else is a secret istiod serves over ADS (<paramref name="sds"/>,
/// present when xDS runs). The contexts read their source per handshake, so a rotated secret needs no re-binding.
/// </summary>
public sealed class TlsBindings(ICertificateSource? workload, ILogger logger, SdsSecretRegistry? sds = null)
{
    public static readonly TlsBindings None = new(null, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, FileSecretSlot> _files = new(StringComparer.Ordinal);
    private WorkloadSecretSlot? _workloadSlot;

    public ICertificateSource? Workload => workload;
    public ILogger Logger => logger;

    /// <summary>The secrets received over ADS (null without xDS).</summary>
    public SdsSecretRegistry? Sds => sds;

    private static int _warmed;

    /// <summary>
    /// The first handshake of a process made .NET load the whole system trust store (/etc/ssl/certs, ~150 files:
    /// 0.3–1.2 s on a busy 2-core machine) although mesh TLS trusts only its own roots; a 2 s connect timeout then
    /// failed the first request. Building one chain in the background as soon as TLS is configured pays that once,
    /// off the request path.
    /// </summary>
    private static void WarmChainEngine(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate)
    {
        if (certificate is null || Interlocked.Exchange(ref _warmed, 1) != 0) return;
        _ = Task.Run(() =>
        {
            using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
            chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
            chain.ChainPolicy.DisableCertificateDownloads = true;
            chain.Build(certificate);
        });
    }

    public TlsTerminator BuildTerminator(DownstreamTlsModel model, string listenerName, string statPrefix, StatsStore stats)
    {
        ICertificateSource source = Resolve(model.Secrets, "listener " + listenerName)
            ?? throw new TlsBindingException($"listener {listenerName}: a TLS filter chain needs a certificate");
        WarmChainEngine(source.Current?.Leaf);
        var context = new DownstreamTlsContext(model.Options, source);
        return new TlsTerminator(context, listenerName, statPrefix, new TlsStats(stats, statPrefix), model.HandshakeTimeout, logger);
    }

    public TlsOriginator BuildOriginator(UpstreamTlsModel model, ClusterModel cluster, StatsStore stats)
    {
        string prefix = "cluster." + cluster.Name + ".";
        ICertificateSource? source = Resolve(model.Secrets, "cluster " + cluster.Name);
        WarmChainEngine(source?.Current?.Leaf ?? model.Options.TrustBundle?.Roots[0]);
        UpstreamTlsOptions options = model.Options;
        if (options.ApplicationProtocols.Count == 0 && cluster.UpstreamProtocol == UpstreamProtocol.Http2)
        {
            // Envoy offers h2 on TLS connections of an HTTP/2 cluster when alpn_protocols is empty: servers that
            // pick the protocol by ALPN (most) would otherwise answer HTTP/1.1 to our preface.
            options = options with { ApplicationProtocols = [System.Net.Security.SslApplicationProtocol.Http2] };
        }
        var context = new UpstreamTlsContext(options, source);
        // The handshake shares the connect deadline's budget, as Envoy counts it inside connect_timeout.
        return new TlsOriginator(context, cluster.Name, prefix, new TlsStats(stats, prefix), cluster.ConnectTimeout, logger);
    }

    private ICertificateSource? Resolve(TlsSecretsModel secrets, string owner)
    {
        bool workloadOnly = (secrets.CertificateSds is null or TlsSecretsModel.WorkloadCertificate)
            && (secrets.TrustSds is null or TlsSecretsModel.MeshRoots);
        bool usesWorkload = secrets.CertificateSds is TlsSecretsModel.WorkloadCertificate || secrets.TrustSds is TlsSecretsModel.MeshRoots;
        if (usesWorkload && workload is null)
        {
            throw new TlsBindingException($"{owner}: SDS secret \"{secrets.CertificateSds ?? secrets.TrustSds}\" needs the workload certificate: " +
                "mount ./etc/certs/ or ./var/run/secrets/workload-spiffe-credentials/ (cert-chain.pem, key.pem, root-cert.pem) or configure Istio's CA (CA_ADDR)");
        }
        if (secrets.InlineCertificate is { } inline)
        {
            if (secrets.TrustSds is null) return new StaticCertificateSource(inline);
            return new SdsCertificateSource(new FixedSlot(new SdsSecretValue(inline, null)), Slot(secrets.TrustSds, owner));
        }
        // SDS certificate and/or ROOTCA: both are the workload source (a client without a certificate still
        // takes the mesh roots from it; UpstreamTlsOptions.PresentClientCertificate says whether to present one).
        if (workloadOnly) return usesWorkload ? workload : null;
        ISecretSlot? certificate = secrets.CertificateSds is { } c ? Slot(c, owner) : null;
        ISecretSlot? trust = secrets.TrustSds is { } t ? Slot(t, owner) : null;
        return new SdsCertificateSource(certificate, trust);
    }

    /// <summary>The slot behind one SDS name, or a binding error that says who serves that name and why it cannot.</summary>
    private ISecretSlot Slot(string name, string owner)
    {
        if (name is TlsSecretsModel.WorkloadCertificate or TlsSecretsModel.MeshRoots)
        {
            return _workloadSlot ??= new WorkloadSecretSlot(workload!);
        }
        if (!SdsSecretNames.IsServedOverAds(name))
        {
            if (_files.TryGetValue(name, out FileSecretSlot? cached)) return cached;
            if (FileSecretSlot.TryOpen(name, out FileSecretSlot? opened) is string error) throw new TlsBindingException($"{owner}: {error}");
            FileSecretSlot kept = _files.GetOrAdd(name, opened!);
            if (!ReferenceEquals(kept, opened)) opened!.Dispose();
            return kept;
        }
        if (sds is null)
        {
            throw new TlsBindingException($"{owner}: SDS secret \"{name}\" is served by istiod over ADS; without xDS only " +
                $"\"{TlsSecretsModel.WorkloadCertificate}\", \"{TlsSecretsModel.MeshRoots}\" and file-cert:/file-root: names are available");
        }
        return sds.Slot(name);
    }

    /// <summary>Inline material as a slot, so it combines with an SDS validation context.</summary>
    private sealed class FixedSlot(SdsSecretValue value) : ISecretSlot
    {
        public SdsSecretValue? Current => value;
    }
}
