using System.Net.WebSockets;
using System.Text;
using Sidecar.E2E.Tests.Harness;
using Xunit;

namespace Sidecar.E2E.Tests;

/// <summary>The peers themselves, without the sidecar: proves the harness before blaming the proxy.</summary>
public sealed class PeerSanityTests : IClassFixture<UpstreamFixture>
{
    private readonly UpstreamPeers _peers;
    public PeerSanityTests(UpstreamFixture f) => _peers = f.Peers;

    private string Nginx(string path) => $"http://127.0.0.1:{_peers.NginxPort}{path}";

    [Fact]
    public async Task Peer_nginx_serves_hello_with_keepalive()
    {
        var r = await Proc.Curl("-v", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\n", Nginx("/hello"), Nginx("/hello"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(["200 1", "200 0"], r.StdOut.Trim().Split('\n'));
        Assert.Contains("Re-using existing connection", r.StdErr);
    }

    [Fact]
    public async Task Peer_nginx_serves_100MB_file_and_status_codes()
    {
        var r = await Proc.Curl("-o", "/dev/null", "-w", "%{http_code} %{size_download}", Nginx("/big"));
        Assert.Equal($"200 {UpstreamPeers.BigSize}", r.StdOut);
        Assert.Equal("204", (await Proc.Curl("-o", "/dev/null", "-w", "%{http_code}", Nginx("/status/204"))).StdOut);
        Assert.Equal("304", (await Proc.Curl("-o", "/dev/null", "-w", "%{http_code}", Nginx("/status/304"))).StdOut);
    }

    [Fact]
    public async Task Peer_backend_echoes_chunked_upload_through_nginx()
    {
        using var dir = TestEnv.NewTempDir("peer-echo");
        var payload = Load.Pattern(300_000);
        File.WriteAllBytes(dir.File("in.bin"), payload);
        var r = await Proc.Curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@" + dir.File("in.bin"),
            "-o", dir.File("out.bin"), "-w", "%{http_code}", Nginx("/echo"));
        Assert.True(r.StdOut == "200", r + _peers.Diagnostics());
        Assert.Equal(payload, File.ReadAllBytes(dir.File("out.bin")));
        Assert.Contains(_peers.BackendRequests(), l => l.StartsWith("POST /echo", StringComparison.Ordinal) && l.EndsWith("body=300000", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Peer_backend_chunked_response_and_slow_directly()
    {
        var r = await Proc.Curl("-D", "-", $"http://127.0.0.1:{_peers.BackendPort}/chunked?n=4&size=10");
        Assert.Contains("Transfer-Encoding: chunked", r.StdOut);
        Assert.EndsWith(string.Concat(Enumerable.Repeat("0123456789", 4)), r.StdOut);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var s = await Proc.Curl(Nginx("/slow?ms=300"));
        Assert.Equal("slow done\n", s.StdOut);
        Assert.True(sw.ElapsedMilliseconds >= 290);
    }

    [Fact]
    public async Task Peer_websocket_echo_works_directly()
    {
        using var ws = await WsEchoPeer.Start();
        using var client = new ClientWebSocket();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{ws.Port}/"), cts.Token);
        await client.SendAsync(Encoding.UTF8.GetBytes("ping ws"), WebSocketMessageType.Text, true, cts.Token);
        var buf = new byte[1024];
        var res = await client.ReceiveAsync(buf, cts.Token);
        Assert.Equal("ping ws", Encoding.UTF8.GetString(buf, 0, res.Count));
    }

    [Fact]
    public async Task Peer_socat_echo_handles_half_close_directly()
    {
        using var socat = await SocatEchoPeer.Start();
        var payload = Load.Pattern(200_000, 7);
        var (echoed, eof) = await Load.EchoWithHalfClose(socat.Port, payload, TimeSpan.FromSeconds(10));
        Assert.True(eof, "expected EOF after the echo");
        Assert.Equal(payload, echoed);
    }

    [Fact]
    public async Task Peer_wrk_against_nginx_has_no_errors()
    {
        var w = await Load.Wrk(Nginx("/hello"), 10, 1);
        Assert.True(w.Requests > 100 && w.SocketErrors == 0 && w.Non2xx == 0, w.ToString());
    }
}
