using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Tests.Proxy;
using Sidecar.Core.Tests.Tls;
using Xunit;

namespace Sidecar.Core.Tests.HttpFeatures;

/// <summary>
/// Path normalization and grpc-timeout through the whole proxy, from config text: what the backend received (an echo
/// of the forwarded head), what the client got, over HTTP/1.1 and h2c.
/// </summary>
public sealed class HttpFeatureProxyTests
{
    private static BootstrapModel Load(int backendPort, string hcmOptions, string routeOptions = "")
    {
        string yaml = $$"""
static_resources:
  listeners:
  - name: l0
    address: { socket_address: { address: 127.0.0.1, port_value: {{TlsTestPeers.FreePort()}} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: test
{{hcmOptions}}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/admin" }
                direct_response: { status: 403 }
              - match: { prefix: "/" }
                route: { cluster: backend{{routeOptions}} }
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

    private const string IstioBase = "          normalize_path: true\n          path_with_escaped_slashes_action: KEEP_UNCHANGED";

    /// <summary>Sends one raw HTTP/1.1 request (the target exactly as given) and returns the whole response.</summary>
    private static async Task<string> RawAsync(IPEndPoint ep, string target, string extraHeaders = "")
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(ep);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: svc\r\n{extraHeaders}Connection: close\r\n\r\n"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var all = new MemoryStream();
        byte[] buf = new byte[8192];
        while (true)
        {
            int n = await socket.ReceiveAsync(buf, SocketFlags.None, timeout.Token);
            if (n == 0) break;
            all.Write(buf, 0, n);
        }
        return Encoding.Latin1.GetString(all.ToArray());
    }

    /// <summary>The request line the backend received (first line of the echoed head).</summary>
    private static string ForwardedTarget(string response)
    {
        Assert.StartsWith("HTTP/1.1 200", response);
        string body = response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        string line = body[..body.IndexOf("\r\n", StringComparison.Ordinal)];
        return line.Split(' ')[1];
    }

    [Theory]
    [InlineData("/a/../b", "/b")]
    [InlineData("/a/./b/%2e%2E/c?x=/../y", "/a/c?x=/../y")]
    [InlineData("/../../etc/passwd", "/etc/passwd")]
    [InlineData("/%61%62c", "/abc")]
    [InlineData("/a%2Fb", "/a%2Fb")]
    [InlineData("//x", "//x")]
    [InlineData("/already/normal?q=1", "/already/normal?q=1")]
    public async Task NormalizePathRewritesWhatIsForwarded(string sent, string forwarded)
    {
        using var backend = new EchoHeadBackend();
        await using var proxy = await ProxyHarness.StartAsync(Load(backend.Port, IstioBase));
        Assert.Equal(forwarded, ForwardedTarget(await RawAsync(proxy.EndPoint, sent)));
    }

    [Fact]
    public async Task RoutingSeesTheNormalizedPath()
    {
        using var backend = new EchoHeadBackend();
        await using var proxy = await ProxyHarness.StartAsync(Load(backend.Port, IstioBase));
        // "/public/../admin" must hit the /admin route (403), not slip past it as a /public request.
        Assert.StartsWith("HTTP/1.1 403", await RawAsync(proxy.EndPoint, "/public/../admin/users"));
        Assert.StartsWith("HTTP/1.1 403", await RawAsync(proxy.EndPoint, "/%61dmin"));
        // Without normalize_path the raw path is routed (Envoy's default).
        await using var raw = await ProxyHarness.StartAsync(Load(backend.Port, ""));
        Assert.Equal("/public/../admin/users", ForwardedTarget(await RawAsync(raw.EndPoint, "/public/../admin/users")));
    }

    [Fact]
    public async Task UnnormalizablePathsGet400()
    {
        using var backend = new EchoHeadBackend();
        await using var proxy = await ProxyHarness.StartAsync(Load(backend.Port, IstioBase));
        Assert.StartsWith("HTTP/1.1 400", await RawAsync(proxy.EndPoint, "/a/%00/b"));
    }

    [Fact]
    public async Task MergeSlashesAndEscapedSlashActions()
    {
        using var backend = new EchoHeadBackend();
        await using (var merge = await ProxyHarness.StartAsync(Load(backend.Port, IstioBase + "\n          merge_slashes: true")))
        {
            Assert.Equal("/x/y?a=//b", ForwardedTarget(await RawAsync(merge.EndPoint, "//x///y?a=//b")));
        }
        await using (var reject = await ProxyHarness.StartAsync(Load(backend.Port, "          normalize_path: true\n          path_with_escaped_slashes_action: REJECT_REQUEST")))
        {
            Assert.StartsWith("HTTP/1.1 400", await RawAsync(reject.EndPoint, "/a%2Fb"));
            Assert.StartsWith("HTTP/1.1 400", await RawAsync(reject.EndPoint, "/a%5cb"));
            Assert.Equal("/a/b", ForwardedTarget(await RawAsync(reject.EndPoint, "/a/b")));
        }
        await using (var redirect = await ProxyHarness.StartAsync(Load(backend.Port, "          normalize_path: true\n          path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT")))
        {
            string r = await RawAsync(redirect.EndPoint, "/a%2F..%2Fb?q=%2F");
            Assert.StartsWith("HTTP/1.1 307", r);
            Assert.Contains("\r\nlocation: /b?q=%2F\r\n", r, StringComparison.OrdinalIgnoreCase);
        }
        await using (var forward = await ProxyHarness.StartAsync(Load(backend.Port, "          normalize_path: true\n          merge_slashes: true\n          path_with_escaped_slashes_action: UNESCAPE_AND_FORWARD")))
        {
            Assert.Equal("/a/b/c", ForwardedTarget(await RawAsync(forward.EndPoint, "/a%2F%2Fb%5Cc")));
        }
    }

    private static HttpClient H2c() => new(new SocketsHttpHandler())
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(15),
    };

    [Fact]
    public async Task Http2PathsAreNormalizedToo()
    {
        using var backend = new EchoHeadBackend();
        await using var proxy = await ProxyHarness.StartAsync(Load(backend.Port, IstioBase + "\n          merge_slashes: true"));
        using HttpClient client = H2c();
        // .NET's Uri removes dot segments itself, so HTTP/2 is exercised with what it keeps: "//", %2E and escapes.
        string body = await client.GetStringAsync($"http://127.0.0.1:{proxy.EndPoint.Port}/x//y/%2E%2E/z/%7Euser?k=//v");
        Assert.StartsWith("GET /x/z/~user?k=//v HTTP/1.1\r\n", body);
    }

    private static async Task<(HttpResponseMessage Response, double Ms)> GrpcCallAsync(HttpClient client, int port, string? grpcTimeout)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/pkg.Service/Method")
        {
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (grpcTimeout is not null) request.Headers.TryAddWithoutValidation("grpc-timeout", grpcTimeout);
        var sw = Stopwatch.StartNew();
        HttpResponseMessage response = await client.SendAsync(request);
        return (response, sw.Elapsed.TotalMilliseconds);
    }

    private static string? Header(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out IEnumerable<string>? v) ? string.Join(",", v) : r.TrailingHeaders.TryGetValues(name, out v) ? string.Join(",", v) : null;

    [Fact]
    public async Task GrpcTimeoutHeaderBoundsTheStreamAsIstioConfiguresIt()
    {
        using var slow = new EchoHeadBackend(delay: TimeSpan.FromSeconds(3));
        // Istio's route: timeout 0s (none), max_stream_duration { max_stream_duration: 0s, grpc_timeout_header_max: 0s }.
        await using var proxy = await ProxyHarness.StartAsync(Load(slow.Port, "",
            ", timeout: 0s, max_stream_duration: { max_stream_duration: 0s, grpc_timeout_header_max: 0s }"));
        using HttpClient client = H2c();
        (HttpResponseMessage r, double ms) = await GrpcCallAsync(client, proxy.EndPoint.Port, "300m");
        Assert.Equal(HttpVersion.Version20, r.Version);
        // Envoy: the stream's duration ran out → trailers-only, DEADLINE_EXCEEDED (4), "downstream duration timeout".
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("4", Header(r, "grpc-status"));
        Assert.Equal("downstream duration timeout", Header(r, "grpc-message"));
        Assert.Equal("application/grpc", r.Content.Headers.ContentType?.MediaType);
        Assert.InRange(ms, 250, 2500);
    }

    [Fact]
    public async Task MaxGrpcTimeoutCapsTheHeaderAndAnswersUnavailable()
    {
        using var slow = new EchoHeadBackend(delay: TimeSpan.FromSeconds(3));
        await using var proxy = await ProxyHarness.StartAsync(Load(slow.Port, "", ", timeout: 10s, max_grpc_timeout: 0.4s"));
        using HttpClient client = H2c();
        // The header asks for 60 s; the cap (0.4 s) wins. Envoy's router timeout: 504 → UNAVAILABLE (14).
        (HttpResponseMessage r, double ms) = await GrpcCallAsync(client, proxy.EndPoint.Port, "60S");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("14", Header(r, "grpc-status"));
        Assert.Equal("upstream request timeout", Header(r, "grpc-message"));
        Assert.InRange(ms, 350, 2500);
    }

    [Fact]
    public async Task MalformedGrpcTimeoutIsIgnored()
    {
        using var backend = new EchoHeadBackend(delay: TimeSpan.FromMilliseconds(600));
        await using var proxy = await ProxyHarness.StartAsync(Load(backend.Port, "",
            ", timeout: 0s, max_stream_duration: { grpc_timeout_header_max: 0s }"));
        using HttpClient client = H2c();
        (HttpResponseMessage r, _) = await GrpcCallAsync(client, proxy.EndPoint.Port, "100 m");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Null(Header(r, "grpc-status")); // the backend's own answer, not a local reply
        Assert.StartsWith("POST /pkg.Service/Method HTTP/1.1", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Http1RequestWithGrpcTimeoutGets504()
    {
        using var slow = new EchoHeadBackend(delay: TimeSpan.FromSeconds(3));
        await using var proxy = await ProxyHarness.StartAsync(Load(slow.Port, "",
            ", timeout: 0s, max_stream_duration: { grpc_timeout_header_max: 0s }"));
        var sw = Stopwatch.StartNew();
        string r = await RawAsync(proxy.EndPoint, "/x", "grpc-timeout: 200m\r\n");
        Assert.StartsWith("HTTP/1.1 504", r);
        Assert.InRange(sw.Elapsed.TotalMilliseconds, 150, 2500);
    }
}
