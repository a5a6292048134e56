using Sidecar.Core.Telemetry;

namespace Sidecar.Core.Tls;

/// <summary>
/// Per-listener or per-cluster TLS counters with Envoy's names (<c>ssl.*</c>, see Envoy's ssl stats docs), so refused
/// handshakes show up where Istio dashboards look for them. One <see cref="Record"/> call per handshake.
/// </summary>
public sealed class TlsStats(Func<string, Counter> counter, string prefix)
{
    /// <summary>Counters not registered anywhere (tests, scratch contexts).</summary>
    public TlsStats(string prefix) : this(static name => new Counter(name), prefix)
    {
    }

    /// <summary>Counters registered in <paramref name="store"/> so /stats and Prometheus show them.</summary>
    public TlsStats(StatsStore store, string prefix) : this(store.Counter, prefix)
    {
    }

    public Counter Handshake { get; } = counter(prefix + "ssl.handshake");
    public Counter ConnectionError { get; } = counter(prefix + "ssl.connection_error");
    public Counter FailVerifyNoCert { get; } = counter(prefix + "ssl.fail_verify_no_cert");
    public Counter FailVerifyError { get; } = counter(prefix + "ssl.fail_verify_error");
    public Counter FailVerifySan { get; } = counter(prefix + "ssl.fail_verify_san");
    /// <summary>Not an Envoy stat: handshakes refused because no local certificate was available yet.</summary>
    public Counter NoCertificate { get; } = counter(prefix + "ssl.no_certificate");

    public IEnumerable<Counter> All => [Handshake, ConnectionError, FailVerifyNoCert, FailVerifyError, FailVerifySan, NoCertificate];

    public void Record(TlsPeerFailure failure)
    {
        var counter = failure switch
        {
            TlsPeerFailure.None => Handshake,
            TlsPeerFailure.NoLocalCertificate => NoCertificate,
            TlsPeerFailure.MissingClientCert or TlsPeerFailure.MissingServerCert => FailVerifyNoCert,
            TlsPeerFailure.WrongSan => FailVerifySan,
            TlsPeerFailure.HandshakeFailed or TlsPeerFailure.Timeout => ConnectionError,
            _ => FailVerifyError,
        };
        counter.Increment();
    }
}
