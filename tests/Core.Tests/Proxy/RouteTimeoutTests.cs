using System.Diagnostics;
using System.Net;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Tests.Http2;
using Xunit;

namespace Sidecar.Core.Tests.Proxy;

/// <summary>
/// The route timeout runs as Envoy's router runs it: from the end of the downstream request (the whole body received),
/// not from the request head, on every path (HTTP/1.1 and HTTP/2 downstream, HTTP/1.1 and HTTP/2 upstream); it keeps
/// running across retries while each try's per_try_timeout starts with the try; an upstream that answers before the
/// body ended is forwarded; a client that stops sending its body is bounded by the route's idle_timeout (408).
/// Timeouts are 300 ms against bodies trickled over about a second, so the old start (the head) would fail each test.
/// </summary>
public sealed class RouteTimeoutTests
{
    private static readonly TimeSpan RouteTimeout = TimeSpan.FromMilliseconds(300);
    // 10 bytes, one per 100 ms: the upload lasts ~1 s, more than three route timeouts.
    private const int BodyBytes = 10;
    private static readonly TimeSpan Gap = TimeSpan.FromMilliseconds(100);

    private static BootstrapModel Model(int port, TimeSpan timeout, RetryPolicyModel? retry = null, TimeSpan idle = default) =>
        ProxyHarness.HttpModel(port, _ => new RouteActionModel { Cluster = "backend", Timeout = timeout, RetryPolicy = retry, IdleTimeout = idle });

    private static HttpClient H2c() => new(new SocketsHttpHandler())
    {
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(15),
    };

    private static async Task<(HttpResponseMessage Response, string Body, double MsAfterLastByte)> H2PostAsync(IPEndPoint proxy, TrickledContent content)
    {
        using HttpClient client = H2c();
        HttpResponseMessage r = await client.PostAsync($"http://127.0.0.1:{proxy.Port}/upload", content);
        string body = await r.Content.ReadAsStringAsync();
        double ms = content.LastByteSentAt == 0 ? -1 : Stopwatch.GetElapsedTime(content.LastByteSentAt).TotalMilliseconds;
        return (r, body, ms);
    }

    // ---- HTTP/1.1 downstream ----

    [Fact]
    public async Task Http1UploadLongerThanTheTimeoutSucceeds()
    {
        using var backend = new BodyReadingBackend(_ => BackendAnswer.AfterBody);
        await using var proxy = await ProxyHarness.StartAsync(Model(backend.Port, RouteTimeout));
        (string r, _) = await TrickleClient.PostAsync(proxy.EndPoint, BodyBytes, BodyBytes, Gap);
        Assert.StartsWith("HTTP/1.1 200", r);
        Assert.EndsWith("got 10", r);
    }

    [Fact]
    public async Task Http1SilentUpstreamTimesOutAfterTheBodyEnded()
    {
        using var backend = new BodyReadingBackend(_ => BackendAnswer.Never);
        await using var proxy = await ProxyHarness.StartAsync(Model(backend.Port, RouteTimeout));
        (string r, double ms) = await TrickleClient.PostAsync(proxy.EndPoint, BodyBytes, BodyBytes, Gap);
        Assert.StartsWith("HTTP/1.1 504", r);
        Assert.EndsWith("upstream request timeout", r);
        // The timeout counts from the end of the body (heartbeat resolution 100 ms; a loaded machine adds some).
        Assert.InRange(ms, 250, 1500);
    }

    [Fact]
    public async Task Http1UploadToAnHttp2ClusterLongerThanTheTimeoutSucceeds()
    {
        using var backend = new BlockingH2Backend();
        await using var proxy = await ProxyHarness.StartAsync(backend.Model(Model(backend.Port, RouteTimeout)));
        (string r, _) = await TrickleClient.PostAsync(proxy.EndPoint, BodyBytes, BodyBytes, Gap);
        Assert.StartsWith("HTTP/1.1 200", r);
        Assert.EndsWith(BlockingH2Backend.Body, r);
    }

    [Fact]
    public async Task Http1ToSilentHttp2ClusterTimesOutAfterTheBodyEnded()
    {
        using var backend = new BlockingH2Backend { AnswerRequests = false };
        await using var proxy = await ProxyHarness.StartAsync(backend.Model(Model(backend.Port, RouteTimeout)));
        (string r, double ms) = await TrickleClient.PostAsync(proxy.EndPoint, BodyBytes, BodyBytes, Gap);
        Assert.StartsWith("HTTP/1.1 504", r);
        Assert.InRange(ms, 250, 1500);
        Assert.Equal(1, backend.Requests);
    }

    [Fact]
    public async Task Http1EarlyAnswerBeforeTheBodyEndedIsForwarded()
    {
        using var backend = new BodyReadingBackend(_ => BackendAnswer.EarlyRefusal);
        await using var proxy = await ProxyHarness.StartAsync(Model(backend.Port, RouteTimeout));
        (string r, _) = await TrickleClient.PostAsync(proxy.EndPoint, BodyBytes, BodyBytes, Gap);
        Assert.StartsWith("HTTP/1.1 413", r);
        Assert.EndsWith("too big", r);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Http1ClientThatStopsSendingItsBodyGets408AfterTheIdleTimeout(bool http2Cluster)
    {
        using var backend = new BodyReadingBackend(_ => BackendAnswer.AfterBody);
        using var h2Backend = new BlockingH2Backend();
        BootstrapModel model = Model(http2Cluster ? h2Backend.Port : backend.Port, RouteTimeout, idle: TimeSpan.FromMilliseconds(500));
        await using var proxy = await ProxyHarness.StartAsync(http2Cluster ? h2Backend.Model(model) : model);
        var sw = Stopwatch.StartNew();
        // Three of ten bytes, then silence: neither the route timeout (never started) nor anything else would end it.
        (string r, double ms) = await TrickleClient.PostAsync(proxy.EndPoint, BodyBytes, 3, Gap);
        Assert.StartsWith("HTTP/1.1 408", r);
        Assert.EndsWith("stream timeout", r);
        Assert.InRange(ms, 400, 2000);
        Assert.InRange(sw.Elapsed.TotalMilliseconds, 700, 3000);
    }

    // ---- HTTP/2 downstream ----

    [Fact]
    public async Task Http2UploadLongerThanTheTimeoutSucceeds()
    {
        using var backend = new BodyReadingBackend(_ => BackendAnswer.AfterBody);
        await using var proxy = await ProxyHarness.StartAsync(Model(backend.Port, RouteTimeout));
        (HttpResponseMessage r, string body, _) = await H2PostAsync(proxy.EndPoint, new TrickledContent(BodyBytes, Gap));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("got 10", body);
    }

    [Fact]
    public async Task Http2SilentUpstreamTimesOutAfterTheBodyEnded()
    {
        using var backend = new BodyReadingBackend(_ => BackendAnswer.Never);
        await using var proxy = await ProxyHarness.StartAsync(Model(backend.Port, RouteTimeout));
        (HttpResponseMessage r, string body, double ms) = await H2PostAsync(proxy.EndPoint, new TrickledContent(BodyBytes, Gap));
        Assert.Equal(HttpStatusCode.GatewayTimeout, r.StatusCode);
        Assert.Equal("upstream request timeout", body);
        Assert.InRange(ms, 250, 1500);
    }

    [Fact]
    public async Task Http2UploadToAnHttp2ClusterLongerThanTheTimeoutSucceeds()
    {
        using var backend = new BlockingH2Backend();
        await using var proxy = await ProxyHarness.StartAsync(backend.Model(Model(backend.Port, RouteTimeout)));
        (HttpResponseMessage r, string body, _) = await H2PostAsync(proxy.EndPoint, new TrickledContent(BodyBytes, Gap));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(BlockingH2Backend.Body, body);
    }

    [Fact]
    public async Task Http2ToSilentHttp2ClusterTimesOutAfterTheBodyEnded()
    {
        using var backend = new BlockingH2Backend { AnswerRequests = false };
        await using var proxy = await ProxyHarness.StartAsync(backend.Model(Model(backend.Port, RouteTimeout)));
        (HttpResponseMessage r, string body, double ms) = await H2PostAsync(proxy.EndPoint, new TrickledContent(BodyBytes, Gap));
        Assert.Equal(HttpStatusCode.GatewayTimeout, r.StatusCode);
        Assert.Equal("upstream request timeout", body);
        Assert.InRange(ms, 250, 1500);
    }

    [Fact]
    public async Task Http2EarlyAnswerBeforeTheBodyEndedIsForwarded()
    {
        using var backend = new BodyReadingBackend(_ => BackendAnswer.EarlyRefusal);
        await using var proxy = await ProxyHarness.StartAsync(Model(backend.Port, RouteTimeout));
        using HttpClient client = H2c();
        // The response arrives while the client is still sending; .NET hands it over once the request ends or is reset.
        HttpResponseMessage r = await client.PostAsync($"http://127.0.0.1:{proxy.EndPoint.Port}/upload", new TrickledContent(BodyBytes, Gap));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
    }

    [Fact]
    public async Task Http2ClientThatStopsSendingItsBodyGets408AfterTheIdleTimeout()
    {
        using var backend = new BodyReadingBackend(_ => BackendAnswer.AfterBody);
        await using var proxy = await ProxyHarness.StartAsync(Model(backend.Port, RouteTimeout, idle: TimeSpan.FromMilliseconds(500)));
        using HttpClient client = H2c();
        var sw = Stopwatch.StartNew();
        // A body that sends three bytes and then waits for longer than the test.
        HttpResponseMessage r = await client.PostAsync($"http://127.0.0.1:{proxy.EndPoint.Port}/upload", new StallingContent());
        Assert.Equal(HttpStatusCode.RequestTimeout, r.StatusCode);
        Assert.Equal("stream timeout", await r.Content.ReadAsStringAsync());
        Assert.InRange(sw.Elapsed.TotalMilliseconds, 400, 3000);
    }

    private sealed class StallingContent : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync("abc"u8.ToArray());
            await stream.FlushAsync();
            await Task.Delay(TimeSpan.FromSeconds(20));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = BodyBytes;
            return true;
        }
    }

    [Fact]
    public async Task GrpcTimeoutStreamDurationStillRunsFromTheRequestHead()
    {
        // Istio's gRPC route: no route timeout, the grpc-timeout header bounds the stream. Envoy's stream timer starts
        // with the stream, so a 400 ms budget ends while the 1 s upload is still going (DEADLINE_EXCEEDED).
        using var backend = new BodyReadingBackend(_ => BackendAnswer.AfterBody);
        await using var proxy = await ProxyHarness.StartAsync(ProxyHarness.HttpModel(backend.Port, _ => new RouteActionModel
        {
            Cluster = "backend",
            Timeout = TimeSpan.Zero,
            GrpcTimeout = new GrpcTimeoutRule(GrpcTimeoutKind.StreamDuration, TimeSpan.Zero, TimeSpan.Zero),
        }));
        using HttpClient client = H2c();
        var content = new TrickledContent(BodyBytes, Gap);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{proxy.EndPoint.Port}/pkg.Service/Method")
        {
            Content = content,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TryAddWithoutValidation("grpc-timeout", "400m");
        var sw = Stopwatch.StartNew();
        HttpResponseMessage r = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.True(r.Headers.TryGetValues("grpc-status", out IEnumerable<string>? status));
        Assert.Equal("4", string.Join(",", status));
        Assert.InRange(sw.Elapsed.TotalMilliseconds, 300, 1500);
    }

    // ---- retries ----

    private static readonly RetryPolicyModel PerTry = new()
    {
        RetryOn = RetryOn.FiveXx | RetryOn.Reset,
        NumRetries = 5,
        PerTryTimeout = TimeSpan.FromMilliseconds(300),
    };

    [Fact]
    public async Task PerTryTimeoutRetriesOnANewTry()
    {
        // The first try hangs; the second answers.
        using var backend = new BodyReadingBackend(n => n == 1 ? BackendAnswer.Never : BackendAnswer.AfterBody);
        await using var proxy = await ProxyHarness.StartAsync(Model(backend.Port, TimeSpan.FromSeconds(5), PerTry));
        (string r, double ms) = await TrickleClient.GetAsync(proxy.EndPoint);
        Assert.StartsWith("HTTP/1.1 200", r);
        Assert.Equal(2, backend.Requests);
        Assert.InRange(ms, 250, 2000);
        // Envoy's counters: the expired try in upstream_rq_per_try_timeout, none in upstream_rq_timeout.
        Assert.Equal(1, proxy.Stat("cluster.backend.upstream_rq_per_try_timeout"));
        Assert.Equal(0, proxy.Stat("cluster.backend.upstream_rq_timeout"));
    }

    [Fact]
    public async Task RouteTimeoutBoundsAllTriesTogether()
    {
        // Every try hangs: six tries of 300 ms would take 1.8 s; the route timeout (800 ms) ends the request first.
        using var backend = new BodyReadingBackend(_ => BackendAnswer.Never);
        await using var proxy = await ProxyHarness.StartAsync(Model(backend.Port, TimeSpan.FromMilliseconds(800), PerTry));
        (string r, double ms) = await TrickleClient.GetAsync(proxy.EndPoint);
        Assert.StartsWith("HTTP/1.1 504", r);
        Assert.InRange(ms, 700, 1600);
        Assert.InRange(backend.Requests, 2, 4);
        // Each try that expired on its own is a per-try timeout; the last, ended by the route timeout, is the request's.
        Assert.Equal(1, proxy.Stat("cluster.backend.upstream_rq_timeout"));
        // (A try the route timeout ended before its request reached the backend is not among backend.Requests.)
        Assert.InRange(proxy.Stat("cluster.backend.upstream_rq_per_try_timeout"), backend.Requests - 1, backend.Requests);
    }

    [Fact]
    public async Task Http2PerTryTimeoutRetriesAndTheRouteTimeoutBoundsThem()
    {
        using var hangsOnce = new BodyReadingBackend(n => n == 1 ? BackendAnswer.Never : BackendAnswer.AfterBody);
        await using (var proxy = await ProxyHarness.StartAsync(Model(hangsOnce.Port, TimeSpan.FromSeconds(5), PerTry)))
        {
            using HttpClient client = H2c();
            HttpResponseMessage r = await client.GetAsync($"http://127.0.0.1:{proxy.EndPoint.Port}/x");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(2, hangsOnce.Requests);
            Assert.Equal(1, proxy.Stat("cluster.backend.upstream_rq_per_try_timeout"));
            Assert.Equal(0, proxy.Stat("cluster.backend.upstream_rq_timeout"));
        }
        using var hangs = new BodyReadingBackend(_ => BackendAnswer.Never);
        await using (var proxy = await ProxyHarness.StartAsync(Model(hangs.Port, TimeSpan.FromMilliseconds(800), PerTry)))
        {
            using HttpClient client = H2c();
            var sw = Stopwatch.StartNew();
            HttpResponseMessage r = await client.GetAsync($"http://127.0.0.1:{proxy.EndPoint.Port}/x");
            Assert.Equal(HttpStatusCode.GatewayTimeout, r.StatusCode);
            Assert.InRange(sw.Elapsed.TotalMilliseconds, 700, 1600);
            Assert.Equal(1, proxy.Stat("cluster.backend.upstream_rq_timeout"));
            Assert.InRange(proxy.Stat("cluster.backend.upstream_rq_per_try_timeout"), hangs.Requests - 1, hangs.Requests);
        }
    }
}
