using Sidecar.Core.Identity;
using Sidecar.Core.Identity.IstioCa;
using Sidecar.TestPeers.IstioCa;

namespace Sidecar.Core.Tests.Identity.IstioCa;

/// <summary>A running test CA plus the files a client reads (root-cert.pem, token) in a temp directory.</summary>
internal sealed class CaTestBed : IAsyncDisposable
{
    public const string Token = "header.payload.signature";

    private CaTestBed(TestIstioCa ca, string directory)
    {
        Ca = ca;
        Directory = directory;
    }

    public TestIstioCa Ca { get; }
    public string Directory { get; }
    public string RootFile => Path.Combine(Directory, "root-cert.pem");
    public string TokenFile => Path.Combine(Directory, "istio-token");

    public static SpiffeId Identity(string ns = "default", string sa = "bookinfo")
    {
        _ = TrustDomain.TryParse("cluster.local", out var td);
        _ = SpiffeId.TryCreateIstio(td, ns, sa, out var id);
        return id;
    }

    public static async Task<CaTestBed> StartAsync(TestIstioCaOptions? options = null)
    {
        var ca = await TestIstioCa.StartAsync(options);
        var directory = System.IO.Directory.CreateTempSubdirectory("sidecar-ca-").FullName;
        ca.WriteRootCert(Path.Combine(directory, "root-cert.pem"));
        File.WriteAllText(Path.Combine(directory, "istio-token"), Token + "\n");
        return new CaTestBed(ca, directory);
    }

    /// <summary>Client options pointing at the test CA: its address, its root, the token, SAN = the CA's server name.</summary>
    public IstioCaOptions ClientOptions(SpiffeId? identity = null) => new(identity ?? Identity())
    {
        Address = Ca.Address,
        RootCertFile = RootFile,
        TokenFile = TokenFile,
        IstiodSan = Ca.Options.Plaintext ? null : Ca.Options.ServerName,
        Plaintext = Ca.Options.Plaintext,
        ClusterId = "Kubernetes",
        CertificateTtl = TimeSpan.FromHours(24),
        InitialRetryDelay = TimeSpan.FromMilliseconds(100),
        MaxRetryDelay = TimeSpan.FromMilliseconds(400),
        CallTimeout = TimeSpan.FromSeconds(10),
    };

    public async ValueTask DisposeAsync()
    {
        await Ca.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
