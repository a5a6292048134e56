using System.Net.Sockets;
using System.Text;
using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>CONNECT termination (connect_matcher + upgrade_configs CONNECT with connect_config) and upgrade policy.</summary>
public sealed class ConnectAndUpgradeTests : IClassFixture<UpstreamFixture>
{
    private readonly UpstreamPeers _peers;
    private readonly ITestOutputHelper _out;
    public ConnectAndUpgradeTests(UpstreamFixture f, ITestOutputHelper output) { _peers = f.Peers; _out = output; }

    [Fact]
    public async Task Connect_is_terminated_and_bytes_are_relayed_to_the_cluster()
    {
        using var echo = await SocatEchoPeer.Start();
        var cfg = new SidecarConfig();
        int port = cfg.AddHttpListener([new RouteSpec("CONNECT", "tunnel"), new RouteSpec("/", "web")]);
        cfg.AddCluster(new ClusterSpec("tunnel", echo.Port));
        cfg.AddCluster(new ClusterSpec("web", _peers.NginxPort));
        using var sc = await SidecarProcess.Start(cfg, _out);

        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        stream.ReadTimeout = 10_000;
        await stream.WriteAsync(Encoding.ASCII.GetBytes("CONNECT echo.internal:443 HTTP/1.1\r\nHost: echo.internal:443\r\n\r\n"));
        string head = await ReadUntil(stream, "\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);
        await stream.WriteAsync(Encoding.ASCII.GetBytes("ping through the tunnel\n"));
        string echoed = await ReadUntil(stream, "\n");
        Assert.Equal("ping through the tunnel\n", echoed);

        // Ordinary requests on the same listener still route by path.
        var r = await Proc.Curl("-w", " %{http_code}", $"http://127.0.0.1:{port}/hello");
        Assert.True(r.StdOut == "hello\n 200", r.ToString());
    }

    [Fact]
    public async Task Connect_and_websocket_upgrade_without_upgrade_configs_get_403()
    {
        var (sc, port) = await Sidecars.InFrontOf(_peers, _out);
        using var _ = sc;
        var connect = await RawHttp.Exchange(port, "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nConnection: close\r\n\r\n", TimeSpan.FromSeconds(10));
        // No connect_matcher route: CONNECT matches nothing (Envoy: 404 NR).
        Assert.True(connect.Status == 404, connect.Head);
        var ws = await RawHttp.Exchange(port,
            "GET /ws HTTP/1.1\r\nHost: e2e\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            TimeSpan.FromSeconds(2));
        Assert.True(ws.Status == 403, ws.Head);
        // "Upgrade: h2c" (curl --http2 over cleartext) is dropped and the request served as HTTP/1.1.
        var h2c = await RawHttp.Exchange(port,
            "GET /hello HTTP/1.1\r\nHost: e2e\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n",
            TimeSpan.FromSeconds(2));
        Assert.True(h2c.Status == 200, h2c.Head);
    }

    private static async Task<string> ReadUntil(NetworkStream s, string terminator)
    {
        var sb = new StringBuilder();
        var buf = new byte[1];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!sb.ToString().EndsWith(terminator, StringComparison.Ordinal))
        {
            int n = await s.ReadAsync(buf, cts.Token);
            if (n == 0) break;
            sb.Append((char)buf[0]);
        }
        return sb.ToString();
    }
}
