using Sidecar.Core.Telemetry;

namespace Sidecar.Core.Tls;

/// <summary>
/// Per-listener or per-cluster TLS counters with Envoy's names (<c>ssl.*</c>, see Envoy's ssl stats docs), so refused
/// handshakes show up where Istio dashboards look for them. One <see cref="Record"/> call per handshake.
/// </summary>
public sealed class TlsStats(string prefix)
{
    public Counter Handshake { get; } = new(prefix + "ssl.handshake");
    public Counter ConnectionError { get; } = new(prefix + "ssl.connection_error");
    public Counter FailVerifyNoCert { get; } = new(prefix + "ssl.fail_verify_no_cert");
    public Counter FailVerifyError { get; } = new(prefix + "ssl.fail_verify_error");
    public Counter FailVerifySan { get; } = new(prefix + "ssl.fail_verify_san");
    /// <summary>Not an Envoy stat: handshakes refused because no local certificate was available yet.</summary>
    public Counter NoCertificate { get; } = new(prefix + "ssl.no_certificate");

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
