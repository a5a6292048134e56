using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests.Tls;

/// <summary>curl --cert/--key --cacert through a TLS listener (certificate inline from files) to nginx: HTTP/1.1 and h2 chosen by ALPN.</summary>
public sealed class CurlTlsTests(UpstreamFixture f, ITestOutputHelper output) : IClassFixture<UpstreamFixture>
{
    [Fact]
    public async Task Curl_with_client_certificate_over_http11_and_h2_via_alpn()
    {
        var cfg = new SidecarConfig();
        var port = cfg.AddListener(new Chain(new HttpApp("curl_tls", ("/", "web")),
            TlsSide.FromFiles(MeshPki.Server, San.UriPrefix("spiffe://cluster.local/ns/mounted-certs/")) with { Alpn = ["h2", "http/1.1"] }));
        cfg.AddCluster(new ClusterSpec("web", f.Peers.NginxPort));
        using var sc = await SidecarProcess.Start(cfg, output);

        var h1 = await TlsClients.Curl(port, MeshPki.Client, MeshPki.Server.Root, "/hello", "--http1.1", "-w", "%{http_version} %{http_code}");
        Assert.True(h1.StdOut == "hello\n1.1 200", h1.ToString());
        var h2 = await TlsClients.Curl(port, MeshPki.Client, MeshPki.Server.Root, "/hello", "--http2", "-w", "%{http_version} %{http_code}");
        Assert.True(h2.StdOut == "hello\n2 200", h2.ToString());
        // several h2 streams on one connection (curl multiplexes the URLs it is given)
        var many = await TlsClients.Curl(port, MeshPki.Client, MeshPki.Server.Root, "/hello", "--http2", "-w", "%{http_version}\n",
            "-o", "/dev/null", $"https://{MeshPki.ServerDns}:{port}/hello", "-o", "/dev/null", $"https://{MeshPki.ServerDns}:{port}/hello", "-o", "/dev/null");
        Assert.True(many.ExitCode == 0 && many.StdOut == "2\n2\n2\n", many.ToString());

        var stats = await sc.Stats();
        Assert.Equal("1", stats["http.curl_tls.downstream_rq_http1_total"]);
        Assert.Equal("4", stats["http.curl_tls.downstream_rq_http2_total"]);
        Assert.True(long.Parse(stats[TlsYaml.ListenerSsl(port, "handshake")]) >= 3);

        // without a client certificate the STRICT listener refuses (curl fails, nothing is proxied)
        var none = await TlsClients.Curl(port, null, MeshPki.Server.Root, "/hello", "--http1.1", "-w", "%{http_code}");
        Assert.True(none.ExitCode != 0 && !none.StdOut.Contains("hello"), none.ToString());
        Assert.Equal("1", (await sc.Stats())[TlsYaml.ListenerSsl(port, "fail_verify_no_cert")]);
    }
}
