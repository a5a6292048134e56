using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Identity;
using Sidecar.Core.Proxy;
using Sidecar.Core.Tests.Identity;
using Sidecar.Core.Tests.Tls;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.Core.Tests.Proxy;

/// <summary>
/// The whole proxy in-process with TLS from real config text: a STRICT mTLS listener, mTLS origination to a second
/// proxy, ALPN choosing HTTP/2, tcp_proxy over mTLS, and the refusals (counted, the listener keeps serving).
/// </summary>
public sealed class TlsProxyTests(ITestOutputHelper output)
{
    private static readonly string Server = IdentityTestData.MeshPair("mountedcerts-server");
    private static readonly string Client = IdentityTestData.MeshPair("mountedcerts-client");

    private static string Yaml(string s) => s.Replace("SERVER", Server).Replace("CLIENT", Client);

    private static BootstrapModel Load(string yaml)
    {
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(Yaml(yaml), isJson: false);
        Assert.True(r.IsSuccess, string.Join("\n", r.Errors.Select(ConfigErrorFormatter.FormatOne)));
        return r.Value!;
    }

    private const string RouterFilter = """
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
""";

    /// <summary>A STRICT inbound listener (SDS default + ROOTCA, peers of the trust domain only) → a plaintext backend.</summary>
    private static string StrictInbound(int backendPort, string sanMatcher = "prefix: \"spiffe://cluster.local/\"", string alpn = "[h2, http/1.1]") => $$"""
static_resources:
  listeners:
  - name: inbound
    address: { socket_address: { address: 127.0.0.1, port_value: {{TlsTestPeers.FreePort()}} } }
    filter_chains:
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          common_tls_context:
            alpn_protocols: {{alpn}}
            tls_certificate_sds_secret_configs: [{ name: default, sds_config: { ads: {}, resource_api_version: V3 } }]
            combined_validation_context:
              default_validation_context:
                match_typed_subject_alt_names: [{ san_type: URI, matcher: { {{sanMatcher}} } }]
              validation_context_sds_secret_config: { name: ROOTCA, sds_config: { ads: {}, resource_api_version: V3 } }
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: inbound
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: backend } }] }] }
{{RouterFilter}}
  clusters:
  - name: backend
    connect_timeout: 1s
    load_assignment: { cluster_name: backend, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{backendPort}} } } } }] }] }
""";

    /// <summary>A plaintext outbound listener → a cluster originating mTLS with inline files (the client identity).</summary>
    private static string MtlsOutbound(int upstreamPort, string serverSan, string extraCluster = "") => $$"""
static_resources:
  listeners:
  - name: outbound
    address: { socket_address: { address: 127.0.0.1, port_value: {{TlsTestPeers.FreePort()}} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: outbound
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: mesh } }] }] }
{{RouterFilter}}
  clusters:
  - name: mesh
    connect_timeout: 1s
    load_assignment: { cluster_name: mesh, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{upstreamPort}} } } } }] }] }
{{extraCluster}}
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: outbound_.80_._.server.mounted-certs.svc.cluster.local
        common_tls_context:
          alpn_protocols: [istio-http/1.1, istio, http/1.1]
          tls_certificates: [{ certificate_chain: { filename: CLIENT/cert-chain.pem }, private_key: { filename: CLIENT/key.pem } }]
          validation_context:
            trusted_ca: { filename: CLIENT/root-cert.pem }
            match_typed_subject_alt_names: [{ san_type: URI, matcher: { exact: "{{serverSan}}" } }]
""";

    private static TlsBindings ServerIdentity() => new(new StaticCertificateSource(TlsTestPeers.Server.Value), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    private static async Task<SslStream> ConnectTlsAsync(IPEndPoint ep, bool presentCertificate, params SslApplicationProtocol[] alpn)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(ep);
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
        WorkloadCertificate me = TlsTestPeers.Client.Value;
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = "server.mounted-certs.svc",
            ApplicationProtocols = alpn.Length == 0 ? null : [.. alpn],
            ClientCertificateContext = presentCertificate ? SslStreamCertificateContext.Create(me.Leaf, me.Intermediates) : null,
            RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null, // the listener's identity is checked elsewhere
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await ssl.AuthenticateAsClientAsync(options, timeout.Token);
        return ssl;
    }

    private static async Task<string> GetAsync(Stream stream, string path = "/")
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: svc\r\n\r\n"));
        byte[] buffer = new byte[4096];
        int have = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(have), timeout.Token);
            if (n == 0) break;
            have += n;
            string text = Encoding.ASCII.GetString(buffer, 0, have);
            int head = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (head < 0) continue;
            int cl = text.IndexOf("ontent-Length: ", StringComparison.OrdinalIgnoreCase);
            int length = cl < 0 ? 0 : int.Parse(text.AsSpan(cl + 15, text.IndexOf('\r', cl) - cl - 15));
            if (have >= head + 4 + length) return text;
        }
        return Encoding.ASCII.GetString(buffer, 0, have);
    }

    [Fact]
    public async Task StrictListenerServesMutualTlsAndCountsTheHandshake()
    {
        using var backend = new FixedResponseBackend("hello\n");
        await using var proxy = await ProxyHarness.StartAsync(Load(StrictInbound(backend.Port)), ServerIdentity());
        await using SslStream tls = await ConnectTlsAsync(proxy.EndPoint, presentCertificate: true, SslApplicationProtocol.Http11);
        Assert.Equal(SslApplicationProtocol.Http11, tls.NegotiatedApplicationProtocol);
        Assert.True(SubjectAltNames.TryRead(new X509Certificate2(tls.RemoteCertificate!), out SubjectAltNames sans));
        Assert.Equal(TlsTestPeers.ServerId, Assert.Single(sans.Uris));
        string first = await GetAsync(tls);
        string second = await GetAsync(tls); // keep-alive over the same TLS session
        Assert.StartsWith("HTTP/1.1 200", first);
        Assert.StartsWith("HTTP/1.1 200", second);
        Assert.Equal(1, proxy.Stat("ssl.handshake"));
    }

    [Fact]
    public async Task AlpnH2SelectsTheHttp2Codec()
    {
        using var backend = new FixedResponseBackend("hello\n");
        await using var proxy = await ProxyHarness.StartAsync(Load(StrictInbound(backend.Port)), ServerIdentity());
        await using SslStream tls = await ConnectTlsAsync(proxy.EndPoint, presentCertificate: true, SslApplicationProtocol.Http2, SslApplicationProtocol.Http11);
        Assert.Equal(SslApplicationProtocol.Http2, tls.NegotiatedApplicationProtocol);
        // Our preface and an empty SETTINGS; the server's first frame must be its SETTINGS (RFC 9113 §3.4).
        await tls.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        await tls.WriteAsync(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 });
        byte[] header = new byte[9];
        await tls.ReadExactlyAsync(header);
        Assert.Equal(4, header[3]); // SETTINGS
    }

    [Fact]
    public async Task RefusalsAreCountedAndTheListenerKeepsServing()
    {
        using var backend = new FixedResponseBackend("hello\n");
        await using var proxy = await ProxyHarness.StartAsync(Load(StrictInbound(backend.Port)), ServerIdentity());

        // No client certificate: refused (TLS 1.3 reports it after the client's handshake finished, on first read).
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using SslStream anonymous = await ConnectTlsAsync(proxy.EndPoint, presentCertificate: false);
            string answer = await GetAsync(anonymous);
            if (!answer.StartsWith("HTTP/1.1 200", StringComparison.Ordinal)) throw new IOException("refused: " + answer.Length);
        });
        // Plaintext HTTP to the TLS port, then garbage: closed without an answer.
        foreach (byte[] junk in new[] { "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), new byte[] { 0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5 } })
        {
            using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await raw.ConnectAsync(proxy.EndPoint);
            await raw.SendAsync(junk);
            byte[] buffer = new byte[256];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            int n;
            try
            {
                n = await raw.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            }
            catch (SocketException)
            {
                n = 0;
            }
            Assert.False(n > 0 && Encoding.ASCII.GetString(buffer, 0, n).StartsWith("HTTP/", StringComparison.Ordinal), "a TLS port must not answer plaintext HTTP");
        }
        await Task.Delay(200);
        Assert.Equal(1, proxy.Stat("ssl.fail_verify_no_cert"));
        Assert.Equal(2, proxy.Stat("ssl.connection_error"));

        await using SslStream good = await ConnectTlsAsync(proxy.EndPoint, presentCertificate: true);
        Assert.StartsWith("HTTP/1.1 200", await GetAsync(good));
    }

    [Fact]
    public async Task ListenerSanMatcherRefusesOtherIdentities()
    {
        using var backend = new FixedResponseBackend("hello\n");
        await using var proxy = await ProxyHarness.StartAsync(
            Load(StrictInbound(backend.Port, sanMatcher: "exact: \"spiffe://cluster.local/ns/other/sa/x\"")), ServerIdentity());
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using SslStream tls = await ConnectTlsAsync(proxy.EndPoint, presentCertificate: true);
            string answer = await GetAsync(tls);
            if (!answer.StartsWith("HTTP/1.1 200", StringComparison.Ordinal)) throw new IOException("refused");
        });
        await Task.Delay(100);
        Assert.Equal(1, proxy.Stat("ssl.fail_verify_san"));
    }

    [Fact]
    public async Task TwoProxiesTalkMutualTls()
    {
        using var backend = new FixedResponseBackend("through both\n");
        await using var inbound = await ProxyHarness.StartAsync(Load(StrictInbound(backend.Port)), ServerIdentity());
        await using var outbound = await ProxyHarness.StartAsync(Load(MtlsOutbound(inbound.EndPoint.Port, TlsTestPeers.ServerId)));
        using var client = new BlockingClient(outbound.EndPoint);
        for (int i = 0; i < 3; i++)
        {
            client.Send(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: svc\r\n\r\n"));
            Assert.Equal(200, client.ReadResponse(out _, out _));
        }
        Assert.Equal(1, outbound.Stat("cluster.mesh.ssl.handshake")); // one pooled mTLS connection
        Assert.Equal(1, inbound.Stat("ssl.handshake"));
        Assert.Equal(3, backend.Requests);
    }

    [Fact]
    public async Task WrongServerIdentityIsAConnectFailure()
    {
        using var backend = new FixedResponseBackend("never\n");
        await using var inbound = await ProxyHarness.StartAsync(Load(StrictInbound(backend.Port)), ServerIdentity());
        await using var outbound = await ProxyHarness.StartAsync(Load(MtlsOutbound(inbound.EndPoint.Port, "spiffe://cluster.local/ns/mounted-certs/sa/someone-else")));
        using var client = new BlockingClient(outbound.EndPoint);
        client.Send(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: svc\r\n\r\n"));
        Assert.Equal(503, client.ReadResponse(out _, out _));
        Assert.Equal(1, outbound.Stat("cluster.mesh.ssl.fail_verify_san"));
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public void SdsWithoutAWorkloadCertificateIsRefusedAtStart()
    {
        BootstrapModel model = Load(StrictInbound(1));
        var stats = new Telemetry.StatsStore();
        using ProxySnapshot snapshot = SnapshotBuilder.Build(model, stats, TlsBindings.None);
        var services = new ProxyServices { Drain = new(), Heartbeat = new(), Connector = new(new Sidecar.Core.Transport.TransportSettings()), Transport = new() };
        var e = Assert.Throws<TlsBindingException>(() => new Sidecar.Core.Listeners.ListenerRuntime(model.Listeners[0], snapshot, services, stats));
        output.WriteLine(e.Message);
        Assert.Contains("\"default\"", e.Message);
        Assert.Contains("CA_ADDR", e.Message);
    }

    private static string TcpChain(string cluster) => $$"""
      filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: tcp, cluster: {{cluster}} }
""";

    [Fact]
    public async Task TcpProxyOverMutualTlsRelaysBothWaysAndPassesHalfClose()
    {
        // An echo backend that answers once the client half-closes (so half-close must cross both proxies).
        using var echo = new TcpListener(IPAddress.Loopback, 0);
        echo.Start();
        int echoPort = ((IPEndPoint)echo.LocalEndpoint).Port;
        Task backend = Task.Run(async () =>
        {
            using Socket s = await echo.AcceptSocketAsync();
            var received = new MemoryStream();
            byte[] buffer = new byte[4096];
            int n;
            while ((n = await s.ReceiveAsync(buffer)) > 0) received.Write(buffer, 0, n);
            await s.SendAsync(received.ToArray());
            s.Shutdown(SocketShutdown.Send);
        });
        string inboundYaml = $$"""
static_resources:
  listeners:
  - name: inbound-tcp
    address: { socket_address: { address: 127.0.0.1, port_value: {{TlsTestPeers.FreePort()}} } }
    filter_chains:
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          common_tls_context:
            tls_certificate_sds_secret_configs: [{ name: default }]
            validation_context_sds_secret_config: { name: ROOTCA }
{{TcpChain("echo")}}
  clusters:
  - name: echo
    connect_timeout: 1s
    load_assignment: { cluster_name: echo, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{echoPort}} } } } }] }] }
""";
        await using var inbound = await ProxyHarness.StartAsync(Load(inboundYaml), ServerIdentity());
        string outboundYaml = $$"""
static_resources:
  listeners:
  - name: outbound-tcp
    address: { socket_address: { address: 127.0.0.1, port_value: {{TlsTestPeers.FreePort()}} } }
    filter_chains:
    - {{TcpChain("mesh").TrimStart()}}
  clusters:
  - name: mesh
    connect_timeout: 1s
    load_assignment: { cluster_name: mesh, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{inbound.EndPoint.Port}} } } } }] }] }
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context:
          tls_certificates: [{ certificate_chain: { filename: CLIENT/cert-chain.pem }, private_key: { filename: CLIENT/key.pem } }]
          validation_context:
            trusted_ca: { filename: CLIENT/root-cert.pem }
            match_typed_subject_alt_names: [{ san_type: URI, matcher: { exact: "{{TlsTestPeers.ServerId}}" } }]
""";
        await using var outbound = await ProxyHarness.StartAsync(Load(outboundYaml));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(outbound.EndPoint);
        byte[] payload = PatternOf(200_000);
        await client.SendAsync(payload);
        client.Shutdown(SocketShutdown.Send);
        var back = new MemoryStream();
        byte[] chunk = new byte[65536];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        int got;
        while ((got = await client.ReceiveAsync(chunk, SocketFlags.None, timeout.Token)) > 0) back.Write(chunk, 0, got);
        Assert.Equal(payload, back.ToArray());
        await backend;
        Assert.Equal(1, outbound.Stat("cluster.mesh.ssl.handshake"));
        Assert.Equal(1, inbound.Stat("ssl.handshake"));
    }

    private static byte[] PatternOf(int size)
    {
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) data[i] = (byte)(i * 31 + (i >> 8));
        return data;
    }

    [Fact]
    public async Task APooledTlsConnectionTheServerClosedIsNotReused()
    {
        // A TLS backend that answers one request per connection with keep-alive, then closes it while idle
        // (close_notify + FIN), as a server with a short keep-alive timeout does.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = new Sidecar.Core.Tls.DownstreamTlsContext(new Sidecar.Core.Tls.DownstreamTlsOptions { RequireClientCertificate = false, ApplicationProtocols = [] },
            new StaticCertificateSource(TlsTestPeers.Server.Value));
        int connections = 0;
        using var stop = new CancellationTokenSource();
        _ = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                Socket s;
                try { s = await listener.AcceptSocketAsync(stop.Token); } catch (OperationCanceledException) { return; }
                Interlocked.Increment(ref connections);
                _ = Task.Run(async () =>
                {
                    var r = await server.AuthenticateAsync(new NetworkStream(s, ownsSocket: true), false, CancellationToken.None);
                    if (r.Stream is not { } tls) return;
                    byte[] buffer = new byte[4096];
                    int have = 0;
                    while (!Encoding.ASCII.GetString(buffer, 0, have).Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        int n = await tls.ReadAsync(buffer.AsMemory(have));
                        if (n == 0) return;
                        have += n;
                    }
                    await tls.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray());
                    await Task.Delay(100);
                    await tls.ShutdownAsync();
                    await tls.DisposeAsync();
                });
            }
        });
        string yaml = MtlsOutbound(port, TlsTestPeers.ServerId);
        await using var outbound = await ProxyHarness.StartAsync(Load(yaml));
        using var client = new BlockingClient(outbound.EndPoint);
        for (int i = 0; i < 3; i++)
        {
            client.Send(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: svc\r\n\r\n"));
            Assert.Equal(200, client.ReadResponse(out _, out _));
            await Task.Delay(400); // the backend has closed the pooled connection by now
        }
        stop.Cancel();
        Assert.Equal(3, connections);
    }

    [Fact]
    public async Task TransportSocketMatchesPickTlsPerEndpoint()
    {
        // Istio auto-mTLS: endpoints labelled tlsMode=istio get mTLS, the others plaintext, in one cluster.
        using var meshBackend = new FixedResponseBackend("mesh");
        using var plainBackend = new FixedResponseBackend("plain");
        await using var inbound = await ProxyHarness.StartAsync(Load(StrictInbound(meshBackend.Port)), ServerIdentity());
        string yaml = $$"""
static_resources:
  listeners:
  - name: outbound
    address: { socket_address: { address: 127.0.0.1, port_value: {{TlsTestPeers.FreePort()}} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: outbound
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: mixed } }] }] }
{{RouterFilter}}
  clusters:
  - name: mixed
    connect_timeout: 1s
    load_assignment:
      cluster_name: mixed
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{inbound.EndPoint.Port}} } } }
          metadata: { filter_metadata: { envoy.transport_socket_match: { tlsMode: istio } } }
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{plainBackend.Port}} } } }
    transport_socket_matches:
    - name: tlsMode-istio
      match: { tlsMode: istio }
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
          common_tls_context:
            tls_certificates: [{ certificate_chain: { filename: CLIENT/cert-chain.pem }, private_key: { filename: CLIENT/key.pem } }]
            validation_context:
              trusted_ca: { filename: CLIENT/root-cert.pem }
              match_typed_subject_alt_names: [{ san_type: URI, matcher: { exact: "{{TlsTestPeers.ServerId}}" } }]
    - name: tlsMode-disabled
      match: {}
      transport_socket: { name: envoy.transport_sockets.raw_buffer, typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer } }
""";
        await using var outbound = await ProxyHarness.StartAsync(Load(yaml));
        var bodies = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            using var client = new BlockingClient(outbound.EndPoint);
            client.Send(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: svc\r\n\r\n"));
            Assert.Equal(200, client.ReadResponse(out int head, out int body));
            bodies.Add(Encoding.ASCII.GetString(client.Buffer.Slice(head, body)));
        }
        Assert.Contains("mesh", bodies);
        Assert.Contains("plain", bodies);
        Assert.True(outbound.Stat("cluster.mixed.ssl.handshake") >= 1);
        Assert.Equal(1, inbound.Stat("ssl.handshake"));
    }
}
