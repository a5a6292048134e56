using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sidecar.TestPeers.IstioCa;

/// <summary>Settings of a <see cref="TestIstioCa"/>.</summary>
public sealed record TestIstioCaOptions
{
    /// <summary>DNS SAN of the CA's serving certificate (istiod's service name).</summary>
    public string ServerName { get; init; } = "istiod.istio-system.svc";

    /// <summary>Longest lifetime issued; a shorter requested <c>validity_duration</c> wins (istiod caps it the same way).</summary>
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>h2c instead of TLS (istiod's port 15010).</summary>
    public bool Plaintext { get; init; }

    /// <summary>Common name of the root (two CAs with the same name test "same issuer name, different key").</summary>
    public string RootName { get; init; } = "test-istio-ca";

    /// <summary>Port on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; }
}

/// <summary>
/// A test double of istiod's CA: <c>POST /istio.v1.auth.IstioCertificateService/CreateCertificate</c> over HTTP/2
/// (TLS with a certificate for <see cref="TestIstioCaOptions.ServerName"/> from its own root, or h2c), signing each CSR
/// for the URI SAN it asks for, recording every request, and able to misbehave for the next N calls.
/// </summary>
public sealed class TestIstioCa : IAsyncDisposable
{
    public const string Path = "/istio.v1.auth.IstioCertificateService/CreateCertificate";

    private readonly TestIstioCaOptions _options;
    private readonly TestCaPki _pki;
    private readonly Lazy<TestCaPki> _foreignPki = new(() => new TestCaPki("foreign-ca"));
    private readonly List<TestCaRequest> _requests = [];
    private readonly Lock _lock = new();
    private readonly Queue<TestCaFault> _faults = new();
    private WebApplication? _app;

    private TestIstioCa(TestIstioCaOptions options)
    {
        _options = options;
        _pki = new TestCaPki(options.RootName);
    }

    /// <summary>The root that signs both the serving certificate and the workload certificates, as PEM (root-cert.pem).</summary>
    public string RootPem => _pki.RootPem;

    /// <summary><c>127.0.0.1:port</c>, the value for CA_ADDR (set ISTIOD_SAN to <see cref="TestIstioCaOptions.ServerName"/>).</summary>
    public string Address { get; private set; } = "";

    public TestIstioCaOptions Options => _options;

    /// <summary>Requests seen so far (a snapshot).</summary>
    public IReadOnlyList<TestCaRequest> Requests
    {
        get
        {
            lock (_lock) return [.. _requests];
        }
    }

    /// <summary>Certificates issued so far (successful calls).</summary>
    public int IssuedCount
    {
        get
        {
            lock (_lock) return _requests.Count(r => r.IssuedSerial is not null);
        }
    }

    public static async Task<TestIstioCa> StartAsync(TestIstioCaOptions? options = null)
    {
        var ca = new TestIstioCa(options ?? new TestIstioCaOptions());
        await ca.StartServerAsync().ConfigureAwait(false);
        return ca;
    }

    /// <summary>The next <paramref name="count"/> calls misbehave as <paramref name="fault"/> (queued after earlier faults).</summary>
    public void FailNext(int count, TestCaFault fault = TestCaFault.Unavailable)
    {
        lock (_lock)
        {
            for (var i = 0; i < count; i++) _faults.Enqueue(fault);
        }
    }

    /// <summary>
    /// A serving certificate for another istiod endpoint (e.g. a fake xDS server on 15012) signed by this CA's root, as
    /// PEM chain + PKCS#8 key: the sidecar then trusts it through the same root-cert.pem.
    /// </summary>
    public (string CertificatePem, string KeyPem) IssueServerPem(string dnsName)
    {
        using var issued = _pki.IssueServer(dnsName);
        using var key = issued.GetRSAPrivateKey()!;
        return (issued.ExportCertificatePem() + "\n", key.ExportPkcs8PrivateKeyPem() + "\n");
    }

    /// <summary>Writes <see cref="RootPem"/> to <paramref name="path"/> (the client's root-cert.pem).</summary>
    public void WriteRootCert(string path) => File.WriteAllText(path, RootPem);

    private async Task StartServerAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var serverCertificate = _options.Plaintext ? null : _pki.IssueServer(_options.ServerName);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, _options.Port, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (serverCertificate is not null)
            {
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = serverCertificate,
                    // istiod accepts a workload certificate as an alternative credential; record it, trust is not the point here.
                    ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                    ClientCertificateValidation = static (_, _, _) => true,
                });
            }
        }));
        _app = builder.Build();
        _app.MapPost(Path, (RequestDelegate)HandleAsync);
        await _app.StartAsync().ConfigureAwait(false);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Address = "127.0.0.1:" + new Uri(address).Port;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body).ConfigureAwait(false);
        context.Response.ContentType = "application/grpc";
        var message = CaWire.UnframeGrpc(body.ToArray());
        var request = message is null ? null : CaWire.ParseRequest(message);
        if (request is null)
        {
            Trailers(context, 3, "malformed IstioCertificateRequest"); // INVALID_ARGUMENT
            return;
        }
        CertificateRequest csr;
        try
        {
            csr = CertificateRequest.LoadSigningRequestPem(request.Csr, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        }
        catch (CryptographicException ex)
        {
            Trailers(context, 3, "bad CSR: " + ex.Message);
            return;
        }
        var uris = TestCaPki.ReadUris(csr.CertificateExtensions.FirstOrDefault(e => e.Oid?.Value == "2.5.29.17"));
        TestCaFault? fault = null;
        lock (_lock)
        {
            if (_faults.Count > 0) fault = _faults.Dequeue();
        }

        string? issuedSerial = null;
        byte[]? response = null;
        var lifetime = request.ValiditySeconds > 0 && TimeSpan.FromSeconds(request.ValiditySeconds) < _options.Lifetime
            ? TimeSpan.FromSeconds(request.ValiditySeconds)
            : _options.Lifetime;
        if (fault == TestCaFault.Garbage)
        {
            response = [0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 0x01]; // field 1, length far past the end
        }
        else if (fault != TestCaFault.Unavailable && uris.Count == 1)
        {
            var pki = fault == TestCaFault.UntrustedChain ? _foreignPki.Value : _pki;
            var identity = fault == TestCaFault.WrongIdentity ? "spiffe://cluster.local/ns/other/sa/intruder" : uris[0];
            using var otherKey = fault == TestCaFault.OtherKey ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : null;
            var publicKey = otherKey is null ? csr.PublicKey : new CertificateRequest("CN=x", otherKey, HashAlgorithmName.SHA256).PublicKey;
            using var leaf = pki.IssueWorkload(publicKey, identity, lifetime);
            issuedSerial = leaf.SerialNumber;
            string[] chain = fault == TestCaFault.LeafOnly ? [leaf.ExportCertificatePem()] : [leaf.ExportCertificatePem(), pki.RootPem];
            response = CaWire.EncodeResponse(chain);
        }

        var keySize = csr.PublicKey.GetRSAPublicKey()?.KeySize ?? csr.PublicKey.GetECDsaPublicKey()?.KeySize ?? 0;
        var record = new TestCaRequest(
            context.Request.Headers.Authorization.FirstOrDefault(),
            context.Request.Headers["clusterid"].FirstOrDefault(),
            uris,
            csr.PublicKey.Oid.Value ?? "",
            keySize,
            request.ValiditySeconds,
            request.CertSigner,
            context.Connection.ClientCertificate?.Subject,
            issuedSerial);
        lock (_lock) _requests.Add(record);

        if (response is null)
        {
            if (fault == TestCaFault.Unavailable) Trailers(context, 14, "test CA: failing on purpose");
            else Trailers(context, 3, $"CSR must carry exactly one URI SAN, has {uris.Count}");
            return;
        }
        await context.Response.Body.WriteAsync(CaWire.FrameGrpc(response)).ConfigureAwait(false);
        Trailers(context, 0, null);
    }

    private static void Trailers(HttpContext context, int status, string? message)
    {
        context.Response.AppendTrailer("grpc-status", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (message is not null) context.Response.AppendTrailer("grpc-message", Uri.EscapeDataString(message));
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
        _pki.Dispose();
        if (_foreignPki.IsValueCreated) _foreignPki.Value.Dispose();
    }
}
