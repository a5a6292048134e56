using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Tls;

/// <summary>
/// Turns SslStream's view of a peer certificate (the chain it built with our mesh-only policy and its policy errors)
/// into a <see cref="TlsPeerFailure"/>, then applies SAN matching. Hostname checks are ours, not SslStream's: mesh peers
/// are identified by SPIFFE URI SAN, so its name-mismatch flag is ignored.
/// </summary>
public static class PeerCertificateVerifier
{
    /// <summary>The chain policy for mesh peers: only the bundle's roots, no system store, no downloads, no revocation fetch.</summary>
    public static X509ChainPolicy MeshChainPolicy(TrustBundle bundle)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.AddRange(bundle.Roots);
        return policy;
    }

    public static TlsPeerFailure Verify(
        X509Certificate? certificate,
        X509Chain? chain,
        SslPolicyErrors errors,
        IReadOnlyList<SanMatcher> matchers,
        bool peerIsClient,
        out SpiffeId peerId)
    {
        peerId = default;
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return peerIsClient ? TlsPeerFailure.MissingClientCert : TlsPeerFailure.MissingServerCert;
        }
        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return chain is null ? TlsPeerFailure.InvalidChain : Classify(chain);
        }

        // SslStream hands us an X509Certificate2 on .NET Core; the cast avoids re-parsing the DER.
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (!SubjectAltNames.TryRead(leaf, out var names)) return TlsPeerFailure.InvalidChain;
        if (!SanMatcher.AnyMatches(matchers, names)) return TlsPeerFailure.WrongSan;
        // The first URI SAN that is a SPIFFE ID names the peer (for authorization and access logs).
        for (var i = 0; i < names.Uris.Count; i++)
        {
            if (SpiffeId.TryParse(names.Uris[i], out peerId) == SpiffeIdError.None) break;
        }
        return TlsPeerFailure.None;
    }

    /// <summary>
    /// RFC 5280 §6.1 failures, most fundamental first: a chain to an unknown root says nothing about dates, so an
    /// untrusted CA wins over an expired leaf.
    /// </summary>
    internal static TlsPeerFailure Classify(X509Chain chain)
    {
        var flags = X509ChainStatusFlags.NoError;
        foreach (var status in chain.ChainStatus) flags |= status.Status;
        if ((flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0) return TlsPeerFailure.UntrustedCa;
        if ((flags & X509ChainStatusFlags.NotSignatureValid) != 0) return TlsPeerFailure.BadSignature;
        if ((flags & X509ChainStatusFlags.NotTimeValid) != 0)
        {
            var now = DateTime.Now;
            foreach (var element in chain.ChainElements)
            {
                if (element.Certificate.NotAfter < now) return TlsPeerFailure.Expired;
            }
            return TlsPeerFailure.NotYetValid;
        }
        return TlsPeerFailure.InvalidChain;
    }
}
