using System.Diagnostics;
using System.Text;
using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Tests.Proxy;
using Xunit;

namespace Sidecar.Core.Tests.Http2;

/// <summary>
/// Upstream HTTP/2 keepalive (Envoy's <c>http2_protocol_options.connection_keepalive</c>): a pooled
/// connection whose PING goes unanswered is closed after the timeout, counted as
/// <c>cluster.X.http2.keepalive_timeout</c>, and the next request opens a new connection.
/// </summary>
public sealed class KeepaliveTests
{
    private static readonly byte[] Request = Encoding.ASCII.GetBytes("GET /hello HTTP/1.1\r\nHost: example.com\r\n\r\n");

    private static Http2ProtocolOptionsModel Keepalive(int intervalMs, int timeoutMs, int idleMs = 0) => new()
    {
        ConnectionKeepalive = new Http2KeepaliveModel
        {
            Interval = TimeSpan.FromMilliseconds(intervalMs),
            Timeout = TimeSpan.FromMilliseconds(timeoutMs),
            IntervalJitter = 0,
            ConnectionIdleInterval = TimeSpan.FromMilliseconds(idleMs),
        },
    };

    private static void Get(BlockingClient client)
    {
        client.Send(Request);
        int status = client.ReadResponse(out _, out int body);
        Assert.Equal(200, status);
        Assert.Equal(BlockingH2Backend.Body.Length, body);
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan limit, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > limit) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task UnansweredPingClosesThePooledConnectionAndTheNextRequestOpensANewOne()
    {
        using var backend = new BlockingH2Backend(answerPings: false);
        await using var proxy = await ProxyHarness.StartAsync(backend.Model(ProxyHarness.HttpModel(backend.Port), Keepalive(intervalMs: 200, timeoutMs: 300)));
        using var client = new BlockingClient(proxy.EndPoint);
        await Task.Run(() => Get(client));
        Assert.Equal(1, backend.Connections);

        await WaitUntil(() => backend.PingsReceived >= 1, TimeSpan.FromSeconds(5), "a keepalive PING");
        var sinceFirstPing = Stopwatch.StartNew();
        await WaitUntil(() => backend.ClosedByClient >= 1, TimeSpan.FromSeconds(5), "the proxy to close the silent connection");
        // Not before the timeout (300 ms; the heartbeat's resolution is 100 ms, the PING was seen a little late).
        Assert.True(sinceFirstPing.ElapsedMilliseconds >= 150, $"closed after {sinceFirstPing.ElapsedMilliseconds} ms");
        Assert.Equal(1, proxy.Stats.Counter("cluster.backend.http2.keepalive_timeout").Value);
        Assert.Equal(1, backend.PingsReceived);   // one PING outstanding at a time

        await Task.Run(() => Get(client));
        Assert.Equal(2, backend.Connections);
    }

    [Fact]
    public async Task AnsweredPingsKeepTheConnection()
    {
        using var backend = new BlockingH2Backend(answerPings: true);
        await using var proxy = await ProxyHarness.StartAsync(backend.Model(ProxyHarness.HttpModel(backend.Port), Keepalive(intervalMs: 100, timeoutMs: 300)));
        using var client = new BlockingClient(proxy.EndPoint);
        await Task.Run(() => Get(client));
        await WaitUntil(() => backend.PingsReceived >= 5, TimeSpan.FromSeconds(5), "five keepalive PINGs");
        await Task.Run(() => Get(client));
        Assert.Equal(1, backend.Connections);
        Assert.Equal(0, backend.ClosedByClient);
        Assert.Equal(0, proxy.Stats.Counter("cluster.backend.http2.keepalive_timeout").Value);
    }

    [Fact]
    public async Task IdleConnectionPingsBeforeItsNextStream()
    {
        using var backend = new BlockingH2Backend(answerPings: true);
        // No interval PINGs: only connection_idle_interval (100 ms) sends one, ahead of a new stream.
        await using var proxy = await ProxyHarness.StartAsync(backend.Model(ProxyHarness.HttpModel(backend.Port), Keepalive(intervalMs: 0, timeoutMs: 1000, idleMs: 100)));
        using var client = new BlockingClient(proxy.EndPoint);
        await Task.Run(() => Get(client));
        await Task.Delay(400);
        Assert.Equal(0, backend.PingsReceived);
        await Task.Run(() => Get(client));
        await WaitUntil(() => backend.PingsReceived == 1, TimeSpan.FromSeconds(2), "the idle PING");
        Assert.Equal(1, backend.Connections);
    }

    private const string ClusterYaml = """
        static_resources:
          clusters:
          - name: c
            type: STATIC
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config:
                  http2_protocol_options:
                    connection_keepalive: { __KA__ }
            load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 10.0.0.1, port_value: 80 } } } }] }] }
        """;

    private static ConfigResult<BootstrapModel> Load(string keepalive) => ConfigLoader.LoadText(ClusterYaml.Replace("__KA__", keepalive, StringComparison.Ordinal), isJson: false);

    [Fact]
    public void ConnectionKeepaliveIsTranslated()
    {
        ConfigResult<BootstrapModel> r = Load("interval: 30s, timeout: 5s, interval_jitter: { value: 10 }, connection_idle_interval: 60s");
        Assert.True(r.IsSuccess, ConfigErrorFormatter.Format(r.Errors));
        Http2KeepaliveModel k = r.Value!.Clusters["c"].Http2.ConnectionKeepalive!;
        Assert.Equal(TimeSpan.FromSeconds(30), k.Interval);
        Assert.Equal(TimeSpan.FromSeconds(5), k.Timeout);
        Assert.Equal(0.10, k.IntervalJitter, 6);
        Assert.Equal(TimeSpan.FromSeconds(60), k.ConnectionIdleInterval);
    }

    [Fact]
    public void JitterDefaultsToFifteenPercent()
    {
        ConfigResult<BootstrapModel> r = Load("interval: 1s, timeout: 1s");
        Assert.True(r.IsSuccess, ConfigErrorFormatter.Format(r.Errors));
        Assert.Equal(0.15, r.Value!.Clusters["c"].Http2.ConnectionKeepalive!.IntervalJitter, 6);
    }

    [Theory]
    [InlineData("interval: 1s", "timeout is required")]
    [InlineData("interval: 1s, timeout: 0.001s", "greater than 1ms")]
    [InlineData("timeout: 1s, interval_jitter: { value: 150 }", "between 0 and 100")]
    [InlineData("timeout: 1s, bogus: 1", "unsupported field")]
    public void BadKeepaliveIsRefused(string keepalive, string message)
    {
        ConfigResult<BootstrapModel> r = Load(keepalive);
        Assert.False(r.IsSuccess);
        Assert.Contains(r.Errors, e => e.Message.Contains(message, StringComparison.Ordinal));
    }
}

/// <summary>The same setting on the connection manager: a downstream client that stops answering PINGs is closed.</summary>
public sealed class DownstreamKeepaliveTests
{
    [Fact]
    public async Task SilentClientIsClosedAfterTheTimeout()
    {
        using var backend = new FixedResponseBackend("hello world\n");
        var baseModel = ProxyHarness.HttpModel(backend.Port);
        var hcm = baseModel.Listeners[0].FilterChains[0].Http!;
        var withKeepalive = new HttpConnectionManagerModel
        {
            StatPrefix = hcm.StatPrefix,
            CodecType = CodecType.Http2,
            RouteConfig = hcm.RouteConfig,
            Http2 = new Http2ProtocolOptionsModel
            {
                ConnectionKeepalive = new Http2KeepaliveModel { Interval = TimeSpan.FromMilliseconds(200), Timeout = TimeSpan.FromMilliseconds(300), IntervalJitter = 0 },
            },
        };
        await using var proxy = await ProxyHarness.StartAsync(ProxyHarness.HttpModel(backend.Port, hcmOverride: withKeepalive));
        int pings = await Task.Run(() =>
        {
            using var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            s.Connect(proxy.EndPoint);
            s.ReceiveTimeout = 5000;
            byte[] hello = [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, 0, 0, 0, 0x4, 0, 0, 0, 0, 0, 0, 0, 0, 0x4, 0x1, 0, 0, 0, 0];   // preface, SETTINGS, SETTINGS ACK
            s.Send(hello);
            // Read frames (never answering a PING) until the proxy closes the connection.
            byte[] buf = new byte[64 * 1024];
            int have = 0, seen = 0;
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(5))
            {
                int n = s.Receive(buf, have, buf.Length - have, System.Net.Sockets.SocketFlags.None);
                if (n == 0) return seen;
                have += n;
                int at = 0;
                while (have - at >= 9)
                {
                    int length = (buf[at] << 16) | (buf[at + 1] << 8) | buf[at + 2];
                    if (have - at < 9 + length) break;
                    if (buf[at + 3] == 0x6 && (buf[at + 4] & 0x1) == 0) seen++;
                    at += 9 + length;
                }
                Buffer.BlockCopy(buf, at, buf, 0, have - at);
                have -= at;
            }
            return -1;
        });
        Assert.Equal(1, pings);
        Assert.Equal(1, proxy.Stats.Counter("http.ingress_http.http2.keepalive_timeout").Value);
    }
}
