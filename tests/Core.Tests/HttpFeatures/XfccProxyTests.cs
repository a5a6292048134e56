using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Identity;
using Sidecar.Core.Proxy;
using Sidecar.Core.Tests.Identity;
using Sidecar.Core.Tests.Proxy;
using Sidecar.Core.Tests.Tls;
using Xunit;

namespace Sidecar.Core.Tests.HttpFeatures;

/// <summary>
/// x-forwarded-client-cert over a real mutual-TLS connection (Istio's test workload certificates), per
/// forward_client_cert_details mode: the backend echoes the forwarded head and the exact XFCC field is checked.
/// </summary>
public sealed class XfccProxyTests
{
    private const string ServerId = "spiffe://cluster.local/ns/mounted-certs/sa/server";
    private const string ClientId = "spiffe://cluster.local/ns/mounted-certs/sa/client";
    private const string Spoofed = "By=spiffe://evil/ns/x/sa/y;Hash=00;URI=spiffe://evil/ns/x/sa/z";

    private static BootstrapModel Load(int backendPort, string xfcc, bool tls = true)
    {
        string transport = tls ? """
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          common_tls_context:
            alpn_protocols: [h2, http/1.1]
            tls_certificate_sds_secret_configs: [{ name: default, sds_config: { ads: {}, resource_api_version: V3 } }]
            validation_context_sds_secret_config: { name: ROOTCA, sds_config: { ads: {}, resource_api_version: V3 } }
      filters:
""" : """
    - filters:
""";
        string yaml = $$"""
static_resources:
  listeners:
  - name: inbound
    address: { socket_address: { address: 127.0.0.1, port_value: {{TlsTestPeers.FreePort()}} } }
    filter_chains:
{{transport}}
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: inbound
{{xfcc}}
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: backend } }] }] }
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
  clusters:
  - name: backend
    connect_timeout: 1s
    load_assignment: { cluster_name: backend, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{backendPort}} } } } }] }] }
""";
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(yaml, isJson: false);
        Assert.True(r.IsSuccess, string.Join("\n", r.Errors.Select(ConfigErrorFormatter.FormatOne)));
        return r.Value!;
    }

    private static TlsBindings ServerIdentity() => new(new StaticCertificateSource(TlsTestPeers.Server.Value), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    private static async Task<Stream> ConnectAsync(IPEndPoint ep, bool tls, string alpn = "http/1.1")
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(ep);
        var plain = new NetworkStream(socket, ownsSocket: true);
        if (!tls) return plain;
        var ssl = new SslStream(plain);
        WorkloadCertificate me = TlsTestPeers.Client.Value;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "server.mounted-certs.svc",
            ApplicationProtocols = [new SslApplicationProtocol(alpn)],
            ClientCertificateContext = SslStreamCertificateContext.Create(me.Leaf, me.Intermediates),
            RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null,
        }, timeout.Token);
        return ssl;
    }

    /// <summary>One request (with a client-supplied XFCC when given); returns the XFCC fields the backend received.</summary>
    private static async Task<string[]> ForwardedXfccAsync(Stream stream, string? sentXfcc)
    {
        string extra = sentXfcc is null ? "" : $"X-Forwarded-Client-Cert: {sentXfcc}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /x HTTP/1.1\r\nHost: svc\r\n{extra}\r\n"));
        byte[] buffer = new byte[16384];
        int have = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(have), timeout.Token);
            Assert.True(n > 0, "the proxy closed the connection");
            have += n;
            string text = Encoding.ASCII.GetString(buffer, 0, have);
            int head = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (head < 0) continue;
            int cl = text.IndexOf("content-length: ", StringComparison.OrdinalIgnoreCase);
            int length = int.Parse(text.AsSpan(cl + 16, text.IndexOf('\r', cl) - cl - 16));
            if (have < head + 4 + length) continue;
            Assert.StartsWith("HTTP/1.1 200", text);
            return [.. text[(head + 4)..].Split("\r\n")
                .Where(l => l.StartsWith("x-forwarded-client-cert:", StringComparison.OrdinalIgnoreCase))
                .Select(l => l[(l.IndexOf(':') + 1)..].Trim())];
        }
    }

    /// <summary>Our element for the test client, written out field by field from the certificates themselves.</summary>
    private static string ExpectedElement(bool subject, bool uri, bool dns)
    {
        X509Certificate2 client = TlsTestPeers.Client.Value.Leaf;
        var parts = new List<string> { "By=" + ServerId, "Hash=" + Convert.ToHexStringLower(SHA256.HashData(client.RawData)) };
        if (subject) parts.Add("Subject=\"CN=client.mounted-certs.svc.cluster.local\"");
        if (uri) parts.Add("URI=" + ClientId);
        if (dns) parts.Add("DNS=client.mounted-certs.svc");
        return string.Join(';', parts);
    }

    private const string IstioInbound = "          forward_client_cert_details: APPEND_FORWARD\n          set_current_client_cert_details: { subject: true, dns: true, uri: true }";

    [Fact]
    public async Task AppendForwardAddsOurElementAfterTheClients()
    {
        using var backend = new EchoHeadBackend();
        await using var proxy = await ProxyHarness.StartAsync(Load(backend.Port, IstioInbound), ServerIdentity());
        await using Stream tls = await ConnectAsync(proxy.EndPoint, tls: true);
        string element = ExpectedElement(subject: true, uri: true, dns: true);
        Assert.Equal([element], await ForwardedXfccAsync(tls, null));
        Assert.Equal([Spoofed + "," + element], await ForwardedXfccAsync(tls, Spoofed)); // same connection: built once, reused
    }

    [Fact]
    public async Task EachModeOverMutualTls()
    {
        using var backend = new EchoHeadBackend();
        (string Mode, string? Expected)[] cases =
        [
            ("SANITIZE", null),
            ("FORWARD_ONLY", Spoofed),
            ("ALWAYS_FORWARD_ONLY", Spoofed),
            ("SANITIZE_SET", ExpectedElement(false, true, false)),
            ("APPEND_FORWARD", Spoofed + "," + ExpectedElement(false, true, false)),
        ];
        foreach ((string mode, string? expected) in cases)
        {
            await using var proxy = await ProxyHarness.StartAsync(
                Load(backend.Port, $"          forward_client_cert_details: {mode}\n          set_current_client_cert_details: {{ uri: true }}"), ServerIdentity());
            await using Stream tls = await ConnectAsync(proxy.EndPoint, tls: true);
            string[] got = await ForwardedXfccAsync(tls, Spoofed);
            if (expected is null) Assert.Empty(got);
            else Assert.Equal([expected], got);
        }
    }

    [Fact]
    public async Task WithoutMutualTlsOnlyAlwaysForwardOnlyKeepsTheClientsHeader()
    {
        using var backend = new EchoHeadBackend();
        foreach (string mode in new[] { "SANITIZE", "FORWARD_ONLY", "APPEND_FORWARD", "SANITIZE_SET" })
        {
            await using var proxy = await ProxyHarness.StartAsync(Load(backend.Port, $"          forward_client_cert_details: {mode}", tls: false));
            await using Stream plain = await ConnectAsync(proxy.EndPoint, tls: false);
            Assert.Empty(await ForwardedXfccAsync(plain, Spoofed));
        }
        await using var always = await ProxyHarness.StartAsync(Load(backend.Port, "          forward_client_cert_details: ALWAYS_FORWARD_ONLY", tls: false));
        await using Stream s = await ConnectAsync(always.EndPoint, tls: false);
        Assert.Equal([Spoofed], await ForwardedXfccAsync(s, Spoofed));
        // No setting at all is SANITIZE: a client cannot make the backend believe another identity called.
        await using var defaults = await ProxyHarness.StartAsync(Load(backend.Port, "", tls: false));
        await using Stream d = await ConnectAsync(defaults.EndPoint, tls: false);
        Assert.Empty(await ForwardedXfccAsync(d, Spoofed));
    }

    [Fact]
    public async Task Http2DownstreamGetsTheSameElement()
    {
        using var backend = new EchoHeadBackend();
        await using var proxy = await ProxyHarness.StartAsync(Load(backend.Port, IstioInbound), ServerIdentity());
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificateContext = SslStreamCertificateContext.Create(TlsTestPeers.Client.Value.Leaf, TlsTestPeers.Client.Value.Intermediates),
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null,
            },
        };
        using var client = new HttpClient(handler);
        var request = new HttpRequestMessage(HttpMethod.Get, $"https://127.0.0.1:{proxy.EndPoint.Port}/x")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TryAddWithoutValidation("x-forwarded-client-cert", Spoofed);
        using HttpResponseMessage response = await client.SendAsync(request);
        Assert.Equal(HttpVersion.Version20, response.Version);
        string echoed = await response.Content.ReadAsStringAsync();
        string[] xfcc = [.. echoed.Split("\r\n").Where(l => l.StartsWith("x-forwarded-client-cert:", StringComparison.Ordinal)).Select(l => l[24..].Trim())];
        Assert.Equal([Spoofed + "," + ExpectedElement(subject: true, uri: true, dns: true)], xfcc);
    }

    [Fact]
    public void SubjectIsRfc2253()
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCountryOrRegion("US");
        builder.AddOrganizationName("Example Inc.");
        builder.AddOrganizationalUnitName("mesh");
        builder.AddCommonName("a,b");
        // RFC 2253 §2.1: the last RDN first; §2.4: ',' inside a value escaped.
        Assert.Equal("CN=a\\,b,OU=mesh,O=Example Inc.,C=US", ClientCertHeader.Rfc2253(builder.Build()));
        Assert.Equal("", ClientCertHeader.Rfc2253(new X500DistinguishedName("")));
    }
}
