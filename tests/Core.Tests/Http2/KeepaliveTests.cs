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
