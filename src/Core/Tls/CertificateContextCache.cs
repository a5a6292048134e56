using System.Net.Security;
using System.Runtime.CompilerServices;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Tls;

/// <summary>
/// One <see cref="SslStreamCertificateContext"/> per certificate instance. Building it resolves and copies the chain
/// (milliseconds), so it is done once per rotation, not per handshake; server and client sides share it. The table
/// holds the context only as long as the certificate is alive.
/// </summary>
internal static class CertificateContextCache
{
    private static readonly ConditionalWeakTable<WorkloadCertificate, SslStreamCertificateContext> Contexts = new();

    public static SslStreamCertificateContext Get(WorkloadCertificate certificate) =>
        // offline: intermediates come from the mounted chain; never fetch AIA URLs from a data-plane process.
        // trust: the acceptable-CA list a server sends in CertificateRequest comes from the mesh bundle. Without it
        // SslStream builds that list from the system root store on every handshake that requests a client certificate.
        Contexts.GetValue(certificate, static c => SslStreamCertificateContext.Create(
            c.Leaf, c.Intermediates, offline: true,
            trust: SslCertificateTrust.CreateForX509Collection(c.TrustBundle.Roots, sendTrustInHandshake: true)));
}
