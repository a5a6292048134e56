using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests.Tls;

/// <summary>
/// nginx and haproxy on both sides of the sidecar, every hop mutual TLS with the Istio test PKI:
/// nginx/haproxy (proxy_ssl_certificate / server … ssl crt … verify required) → sidecar STRICT listener →
/// cluster UpstreamTlsContext → nginx (ssl_verify_client on) / haproxy (bind … ssl … verify required).
/// </summary>
public sealed class NginxHaproxyTlsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Nginx_and_haproxy_as_mtls_clients_and_origins_of_the_sidecar()
    {
        using var dir = TestEnv.NewTempDir("mesh-peers");
        int nginxPlain = TestEnv.FreePort(), nginxMtls = TestEnv.FreePort(), nginxFront = TestEnv.FreePort();
        int haFront = TestEnv.FreePort(), haMtls = TestEnv.FreePort();

        var upstream = TlsSide.FromFiles(MeshPki.Client, San.UriExact(MeshPki.ServerId));
        var cfg = new SidecarConfig();
        var port = cfg.AddListener(new Chain(
            new HttpApp("mesh_in", ("/to-nginx-h2", "c_nginx_h2"), ("/to-nginx", "c_nginx"), ("/to-haproxy", "c_haproxy"), ("/", "c_plain")),
            TlsSide.FromFiles(MeshPki.Server, San.UriExact(MeshPki.ClientId)) with { Alpn = ["h2", "http/1.1"] }));
        cfg.AddTlsCluster("c_nginx", nginxMtls, upstream with { Alpn = ["http/1.1"] });
        cfg.AddTlsCluster("c_nginx_h2", nginxMtls, upstream with { Alpn = ["h2"] }, new ClusterOptions(Http2: true));
        cfg.AddTlsCluster("c_haproxy", haMtls, upstream);
        cfg.AddTlsCluster("c_plain", nginxPlain, null);
        using var sc = await SidecarProcess.Start(cfg, output);

        var values = new Dictionary<string, string>
        {
            ["PLAIN_PORT"] = nginxPlain.ToString(), ["MTLS_PORT"] = nginxMtls.ToString(), ["FRONT_PORT"] = nginxFront.ToString(),
            ["SIDECAR_PORT"] = port.ToString(), ["CA"] = MeshPki.Server.Root,
            ["SERVER_CHAIN"] = MeshPki.Server.Chain, ["SERVER_KEY"] = MeshPki.Server.Key,
            ["CLIENT_CHAIN"] = MeshPki.Client.Chain, ["CLIENT_KEY"] = MeshPki.Client.Key,
        };
        using var nginx = await TlsPeer.Nginx("nginx-mtls.conf.template", values, nginxFront);
        using var haproxy = await TlsPeer.Haproxy("haproxy-mtls.cfg.template", new Dictionary<string, string>
        {
            ["FRONT_PORT"] = haFront.ToString(), ["MTLS_PORT"] = haMtls.ToString(), ["SIDECAR_PORT"] = port.ToString(),
            ["CA"] = MeshPki.Server.Root,
            ["CLIENT_COMBINED"] = MeshPki.Client.WriteCombined(dir.File("client.pem")),
            ["SERVER_COMBINED"] = MeshPki.Server.WriteCombined(dir.File("server.pem")),
        }, haFront);
        string Diag() => $"--- sidecar ---\n{ProcResult.Tail(sc.Process.Output, 4000)}\n--- nginx ---\n{nginx.Output}\n--- haproxy ---\n{haproxy.Output}";

        // nginx (mTLS client) → sidecar → haproxy (mTLS origin)
        var a = await Proc.Curl($"http://127.0.0.1:{nginxFront}/to-haproxy/a");
        Assert.True(a.StdOut == "haproxy-mtls verify=0 dn=/CN=client.mounted-certs.svc.cluster.local path=/to-haproxy/a\n", a + Diag());
        // haproxy (mTLS client) → sidecar → nginx (mTLS origin), HTTP/1.1 and h2 upstream chosen by ALPN
        var b = await Proc.Curl($"http://127.0.0.1:{haFront}/to-nginx/b");
        Assert.True(b.StdOut == "nginx-mtls verify=SUCCESS dn=CN=client.mounted-certs.svc.cluster.local proto=HTTP/1.1\n", b + Diag());
        var c = await Proc.Curl($"http://127.0.0.1:{haFront}/to-nginx-h2/c");
        Assert.True(c.StdOut == "nginx-mtls verify=SUCCESS dn=CN=client.mounted-certs.svc.cluster.local proto=HTTP/2.0\n", c + Diag());
        var d = await Proc.Curl($"http://127.0.0.1:{nginxFront}/hello");
        Assert.True(d.StdOut == "hello\n", d + Diag());

        // a short keep-alive load through nginx → [mTLS] sidecar [mTLS] → haproxy
        var w = await Load.Wrk($"http://127.0.0.1:{nginxFront}/to-haproxy/load", 8, 2);
        output.WriteLine(w.ToString());
        Assert.True(w.Requests > 100 && w.SocketErrors == 0 && w.Non2xx == 0, w + Diag());

        var stats = await sc.Stats();
        Assert.True(long.Parse(stats[TlsYaml.ListenerSsl(port, "handshake")]) >= 2);
        foreach (var cluster in new[] { "c_nginx", "c_nginx_h2", "c_haproxy" })
            Assert.True(long.Parse(stats[TlsYaml.ClusterSsl(cluster, "handshake")]) >= 1, cluster);
        foreach (var counter in new[] { "connection_error", "fail_verify_no_cert", "fail_verify_error", "fail_verify_san" })
        {
            Assert.Equal("0", stats[TlsYaml.ListenerSsl(port, counter)]);
            Assert.Equal("0", stats[TlsYaml.ClusterSsl("c_haproxy", counter)]);
        }
    }
}
