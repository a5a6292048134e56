using Sidecar.E2E.Tests.Harness;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests.Tls;

/// <summary>
/// Two sidecar processes as in a mesh: client side (plain HTTP listener → clusters with UpstreamTlsContext, SDS
/// default/ROOTCA from its SIDECAR_CERT_DIR, server SAN exact) → server side (SDS from its own SIDECAR_CERT_DIR;
/// a STRICT listener and a PERMISSIVE one: tls_inspector, an mTLS chain for transport_protocol tls and a plaintext
/// default chain) → a plaintext nginx that answers with the protocol and URI it saw.
/// Client routes: /h2/ → explicit h2 cluster; /new/ → one request per upstream connection (a TLS handshake each);
/// /perm/ → the PERMISSIVE listener; everything else → HTTP/1.1 keep-alive cluster.
/// </summary>
public sealed class MeshPair : IDisposable
{
    public static readonly string[] ServerAlpn = ["istio-h2", "h2", "istio-http/1.1", "http/1.1"];

    public required TlsPeer Nginx { get; init; }
    public required SidecarProcess Server { get; init; }
    public required SidecarProcess Client { get; init; }
    public required int StrictPort { get; init; }
    public required int PermissivePort { get; init; }
    public required int ClientPort { get; init; }

    public string Url(string path) => $"http://127.0.0.1:{ClientPort}{path}";

    public static Task<MeshPair> Start(string serverCertDir, string clientCertDir, ITestOutputHelper? output) =>
        StartWithEnv(new Dictionary<string, string> { ["SIDECAR_CERT_DIR"] = serverCertDir },
            new Dictionary<string, string> { ["SIDECAR_CERT_DIR"] = clientCertDir }, output);

    /// <summary>As <see cref="Start"/>, with each side's environment given whole (e.g. Istio CA settings instead of files).</summary>
    public static async Task<MeshPair> StartWithEnv(Dictionary<string, string> serverEnv, Dictionary<string, string> clientEnv, ITestOutputHelper? output)
    {
        var nginxPort = TestEnv.FreePort();
        var nginx = await TlsPeer.Nginx("nginx-plain.conf.template", new Dictionary<string, string> { ["PLAIN_PORT"] = nginxPort.ToString() }, nginxPort);
        SidecarProcess? server = null;
        try
        {
            var inbound = TlsSide.Sds(San.UriPrefix("spiffe://cluster.local/ns/mounted-certs/")) with { Alpn = ServerAlpn };
            var s = new SidecarConfig();
            var strict = s.AddListener(new Chain(new HttpApp("srv_strict", ("/", "web")), inbound));
            var permissive = s.AddListener(
                new Chain(new HttpApp("perm_tls", ("/", "web")), inbound, TransportProtocol: "tls"),
                new Chain(new HttpApp("perm_plain", ("/", "web"))));
            s.AddCluster(new ClusterSpec("web", nginxPort));
            server = await SidecarProcess.StartWithEnv(s, output, serverEnv);

            var outbound = TlsSide.Sds(San.UriExact(MeshPki.ServerId));
            var http11 = outbound with { Alpn = ["istio-http/1.1", "http/1.1"] };
            var c = new SidecarConfig();
            var clientPort = c.AddListener(new Chain(new HttpApp("cli",
                ("/h2/", "mesh_h2"), ("/new/", "mesh_new"), ("/perm/", "mesh_perm"), ("/", "mesh_h1"))));
            c.AddTlsCluster("mesh_h1", strict, http11);
            c.AddTlsCluster("mesh_h2", strict, outbound with { Alpn = ["istio-h2", "h2"] }, new ClusterOptions(Http2: true));
            c.AddTlsCluster("mesh_new", strict, http11, new ClusterOptions(MaxRequestsPerConnection: 1));
            c.AddTlsCluster("mesh_perm", permissive, http11);
            var client = await SidecarProcess.StartWithEnv(c, output, clientEnv);
            return new MeshPair { Nginx = nginx, Server = server, Client = client, StrictPort = strict, PermissivePort = permissive, ClientPort = clientPort };
        }
        catch
        {
            server?.Dispose();
            nginx.Dispose();
            throw;
        }
    }

    public string Diagnostics() =>
        $"--- client sidecar ---\n{ProcResult.Tail(Client.Process.Output, 4000)}\n--- server sidecar ---\n{ProcResult.Tail(Server.Process.Output, 4000)}\n--- nginx ---\n{Nginx.Output}";

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
        Nginx.Dispose();
    }
}
