using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests.Tls;

/// <summary>Two sidecar processes talking mTLS (Istio test PKI, SDS default/ROOTCA from mounted files), STRICT and PERMISSIVE.</summary>
public sealed class TwoSidecarTests(ITestOutputHelper output)
{
    private static long N(Dictionary<string, string> stats, string key) => stats.TryGetValue(key, out var v) ? long.Parse(v) : -1;

    [Fact]
    public async Task Client_sidecar_to_server_sidecar_over_mtls_http11_and_h2()
    {
        using var mesh = await MeshPair.Start(MeshPki.Server.Dir, MeshPki.Client.Dir, output);

        var h1 = await Proc.Curl("-w", "%{http_version}", mesh.Url("/h1/a"));
        Assert.True(h1.StdOut == "nginx-plain HTTP/1.1 /h1/a\n1.1", h1 + mesh.Diagnostics());
        var h2 = await Proc.Curl("--http2-prior-knowledge", "-w", "%{http_version}", mesh.Url("/h2/b"));
        Assert.True(h2.StdOut == "nginx-plain HTTP/1.1 /h2/b\n2", h2 + mesh.Diagnostics());

        var load = await H2LoadResult.Run(["-n", "2000", "-c", "4", "-m", "10", mesh.Url("/h2/load")], TimeSpan.FromSeconds(90));
        output.WriteLine(load.Raw.StdOut);
        Assert.True(load.Clean && load.Succeeded == 2000, load + mesh.Diagnostics());
        var w = await Load.Wrk(mesh.Url("/h1/load"), 8, 2);
        output.WriteLine(w.ToString());
        Assert.True(w.Requests > 100 && w.SocketErrors == 0 && w.Non2xx == 0, w + mesh.Diagnostics());

        var server = await mesh.Server.Stats();
        var client = await mesh.Client.Stats();
        // the h2 cluster multiplexes h2load's streams over TLS connections the server decoded as HTTP/2 (ALPN istio-h2)
        Assert.True(N(server, "http.srv_strict.downstream_rq_http2_total") >= 2001, "server h2 requests " + N(server, "http.srv_strict.downstream_rq_http2_total"));
        Assert.True(N(server, "http.srv_strict.downstream_rq_http1_total") >= 1 + w.Requests, "server h1 requests " + N(server, "http.srv_strict.downstream_rq_http1_total"));
        var handshakes = N(server, TlsYaml.ListenerSsl(mesh.StrictPort, "handshake"));
        Assert.Equal(N(client, TlsYaml.ClusterSsl("mesh_h1", "handshake")) + N(client, TlsYaml.ClusterSsl("mesh_h2", "handshake")), handshakes);
        // pooled: far fewer handshakes than requests
        Assert.True(handshakes is >= 2 and <= 40, $"handshakes {handshakes}");
        foreach (var counter in new[] { "connection_error", "fail_verify_no_cert", "fail_verify_error", "fail_verify_san" })
        {
            Assert.Equal(0, N(server, TlsYaml.ListenerSsl(mesh.StrictPort, counter)));
            Assert.Equal(0, N(client, TlsYaml.ClusterSsl("mesh_h1", counter)));
        }

        // one request per upstream connection: a full mTLS handshake each time
        for (var i = 0; i < 3; i++)
        {
            var r = await Proc.Curl(mesh.Url($"/new/{i}"));
            Assert.Equal($"nginx-plain HTTP/1.1 /new/{i}\n", r.StdOut);
        }
        Assert.Equal(3, N(await mesh.Client.Stats(), TlsYaml.ClusterSsl("mesh_new", "handshake")));
    }

    [Fact]
    public async Task Permissive_listener_serves_plaintext_and_mtls_on_one_port()
    {
        using var mesh = await MeshPair.Start(MeshPki.Server.Dir, MeshPki.Client.Dir, output);
        var port = mesh.PermissivePort;

        var plain = await Proc.Curl($"http://127.0.0.1:{port}/plain");
        Assert.True(plain.StdOut == "nginx-plain HTTP/1.1 /plain\n", plain + mesh.Diagnostics());
        var direct = await TlsClients.Curl(port, MeshPki.Client, MeshPki.Server.Root, "/mtls", "--http2", "-w", "%{http_version}");
        Assert.True(direct.StdOut == "nginx-plain HTTP/1.1 /mtls\n2", direct + mesh.Diagnostics());
        var viaClient = await Proc.Curl(mesh.Url("/perm/x"));
        Assert.True(viaClient.StdOut == "nginx-plain HTTP/1.1 /perm/x\n", viaClient + mesh.Diagnostics());
        // TLS without a client certificate takes the mTLS chain and is refused there
        var noCert = await TlsClients.Curl(port, null, MeshPki.Server.Root, "/nocert", "--http1.1");
        Assert.True(noCert.ExitCode != 0 && !noCert.StdOut.Contains("nginx-plain"), noCert.ToString());

        var s = await mesh.Server.Stats();
        Assert.Equal(1, N(s, "http.perm_plain.downstream_rq_total"));
        Assert.Equal(2, N(s, "http.perm_tls.downstream_rq_total"));
        Assert.Equal(2, N(s, TlsYaml.ListenerSsl(port, "handshake")));
        Assert.Equal(1, N(s, TlsYaml.ListenerSsl(port, "fail_verify_no_cert")));
        // and plaintext still works afterwards
        var again = await Proc.Curl($"http://127.0.0.1:{port}/plain2");
        Assert.Equal("nginx-plain HTTP/1.1 /plain2\n", again.StdOut);
    }
}
