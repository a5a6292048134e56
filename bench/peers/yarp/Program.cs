// The minimal YARP reverse proxy from the YARP getting-started guide: routes and clusters from
// configuration (appsettings.json, overridden on the command line by bench/run.py).
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
var proxy = builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
MeshTls.Configure(proxy, builder.Configuration.GetSection("MeshTls"));
var app = builder.Build();
app.MapReverseProxy();
app.Run();

/// <summary>
/// The bench's mtls-origination scenario: a client certificate and the mesh root for the cluster named in
/// <c>MeshTls:ClusterId</c>. YARP takes client certificates only in code, through ConfigureHttpClient (its documented
/// hook); the peer server's certificate is checked against the mesh root only and its DNS name, as the other proxies do.
/// </summary>
internal static class MeshTls
{
    public static void Configure(IReverseProxyBuilder proxy, IConfigurationSection config)
    {
        if (config["ClusterId"] is not string clusterId)
        {
            return;
        }
        using var pemCertificate = X509Certificate2.CreateFromPemFile(Required(config, "CertificatePath"), Required(config, "KeyPath"));
        // an ephemeral PEM key cannot always be used by the TLS stack: re-import it as PKCS#12
        var clientCertificate = X509CertificateLoader.LoadPkcs12(pemCertificate.Export(X509ContentType.Pkcs12), null);
        var root = X509CertificateLoader.LoadCertificateFromFile(Required(config, "RootPath"));
        string serverName = Required(config, "ServerName");
        proxy.ConfigureHttpClient((context, handler) =>
        {
            if (context.ClusterId != clusterId)
            {
                return;
            }
            handler.SslOptions.ClientCertificates = [clientCertificate];
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => Verify(certificate, root, serverName);
        });
    }

    private static string Required(IConfigurationSection config, string key) =>
        config[key] ?? throw new InvalidOperationException($"MeshTls:{key} is required with MeshTls:ClusterId");

    private static bool Verify(X509Certificate? certificate, X509Certificate2 root, string serverName)
    {
        if (certificate is not X509Certificate2 leaf)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf) && leaf.MatchesHostname(serverName);
    }
}
