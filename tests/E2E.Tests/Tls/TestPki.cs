using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sidecar.E2E.Tests.Harness;

namespace Sidecar.E2E.Tests.Tls;

/// <summary>PEM files of one workload identity, in Istio's mounted layout (cert-chain.pem, key.pem, root-cert.pem).</summary>
public sealed record CertFiles(string Dir)
{
    public string Chain => Path.Combine(Dir, "cert-chain.pem");
    public string Key => Path.Combine(Dir, "key.pem");
    public string Root => Path.Combine(Dir, "root-cert.pem");

    /// <summary>Chain and key in one file (haproxy's <c>crt</c>), written to <paramref name="path"/>.</summary>
    public string WriteCombined(string path)
    {
        File.WriteAllText(path, File.ReadAllText(Chain).TrimEnd() + "\n" + File.ReadAllText(Key));
        return path;
    }
}

/// <summary>A leaf issued by a <see cref="TestCa"/>.</summary>
public sealed record IssuedCert(string ChainPem, string KeyPem, string SerialHex)
{
    /// <summary>Writes cert-chain.pem, key.pem and root-cert.pem (<paramref name="rootsPem"/>) into <paramref name="dir"/>.</summary>
    public CertFiles WriteTo(string dir, string rootsPem)
    {
        Directory.CreateDirectory(dir);
        var files = new CertFiles(dir);
        File.WriteAllText(files.Chain, ChainPem);
        File.WriteAllText(files.Key, KeyPem);
        File.WriteAllText(files.Root, rootsPem);
        return files;
    }
}

/// <summary>
/// A throwaway certificate authority (ECDSA P-256: cheap to create per test) issuing X.509-SVIDs as Istio's CA does:
/// one SPIFFE URI SAN (and optionally a DNS SAN), digitalSignature + keyEncipherment, server and client auth.
/// </summary>
public sealed class TestCa : IDisposable
{
    private readonly X509Certificate2 _root;
    private readonly ECDsa _key;
    public string RootPem { get; }

    private TestCa(X509Certificate2 root, ECDsa key)
    {
        _root = root;
        _key = key;
        RootPem = root.ExportCertificatePem() + "\n";
    }

    public static TestCa Create(string commonName)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={commonName}, O=sidecar-e2e", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        var root = req.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));
        return new TestCa(root, key);
    }

    /// <summary>A leaf for <paramref name="spiffeId"/>, valid from <paramref name="notBefore"/> to <paramref name="notAfter"/>.</summary>
    public IssuedCert Issue(string spiffeId, DateTimeOffset notBefore, DateTimeOffset notAfter, string? dns = null)
    {
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("O=sidecar-e2e", leafKey, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(spiffeId));
        if (dns != null) san.AddDnsName(dns);
        req.CertificateExtensions.Add(san.Build(true));
        req.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_root, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f; // positive INTEGER (RFC 5280 §4.1.2.2)
        serial[0] |= 0x10; // no leading zero byte: the hex form is stable
        using var leaf = req.Create(_root.SubjectName, X509SignatureGenerator.CreateForECDsa(_key), notBefore, notAfter, serial);
        return new IssuedCert(leaf.ExportCertificatePem() + "\n", leafKey.ExportPkcs8PrivateKeyPem() + "\n", Convert.ToHexString(serial));
    }

    /// <summary>A leaf valid from a minute ago for <paramref name="lifetime"/> (default: a day).</summary>
    public IssuedCert IssueValid(string spiffeId, TimeSpan? lifetime = null, string? dns = null)
    {
        var now = DateTimeOffset.UtcNow;
        return Issue(spiffeId, now.AddMinutes(-1), now + (lifetime ?? TimeSpan.FromDays(1)), dns);
    }

    public void Dispose()
    {
        _root.Dispose();
        _key.Dispose();
    }
}

/// <summary>The Istio test PKI in ../shared/conformance (mountedcerts-server/-client share one root).</summary>
public static class MeshPki
{
    public const string ServerId = "spiffe://cluster.local/ns/mounted-certs/sa/server";
    public const string ClientId = "spiffe://cluster.local/ns/mounted-certs/sa/client";
    public const string ServerDns = "server.mounted-certs.svc";

    private static string CertsRoot
    {
        get
        {
            var dir = Path.GetFullPath(Path.Combine(TestEnv.RepoRoot, "..", "shared", "conformance", "istio", "certs", "tests-testdata-certs"));
            if (!Directory.Exists(dir))
                throw new InvalidOperationException($"Istio test PKI not found at {dir} (../shared/conformance beside the repo)");
            return dir;
        }
    }

    public static CertFiles Server => new(Path.Combine(CertsRoot, "mountedcerts-server"));
    public static CertFiles Client => new(Path.Combine(CertsRoot, "mountedcerts-client"));
    public static string RootPem => File.ReadAllText(Server.Root);

    /// <summary>A writable copy of <paramref name="files"/> in <paramref name="dir"/> whose root-cert.pem also trusts <paramref name="extraRootsPem"/>.</summary>
    public static CertFiles CopyWithRoots(CertFiles files, string dir, string extraRootsPem)
    {
        Directory.CreateDirectory(dir);
        var copy = new CertFiles(dir);
        File.Copy(files.Chain, copy.Chain, true);
        File.Copy(files.Key, copy.Key, true);
        File.WriteAllText(copy.Root, File.ReadAllText(files.Root).TrimEnd() + "\n" + extraRootsPem);
        return copy;
    }

    /// <summary>Serial (upper-case hex, no leading zeros) of the first certificate in PEM text.</summary>
    public static string SerialOfFirstPem(string pem)
    {
        var begin = pem.IndexOf("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal);
        var end = pem.IndexOf("-----END CERTIFICATE-----", StringComparison.Ordinal);
        if (begin < 0 || end < begin) return "";
        using var cert = X509Certificate2.CreateFromPem(pem.AsSpan(begin, end - begin + "-----END CERTIFICATE-----".Length));
        return cert.SerialNumber.TrimStart('0');
    }
}
