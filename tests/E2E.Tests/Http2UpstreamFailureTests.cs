using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Sidecar.E2E.Tests.Harness;
using Sidecar.E2E.Tests.Http2Conformance;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>
/// An h2c upstream that misbehaves on every request: it either resets the stream before answering, or
/// answers 200 with a content-length, sends part of the body and drops the connection.
/// </summary>
public sealed class MisbehavingH2Upstream : IAsyncDisposable
{
    public enum Fault { ResetStream, DieMidResponse }

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Fault _fault;
    private readonly TimeSpan _dieAfter;
    private readonly Task _accept;
    public int Port { get; }
    public int Requests;

    /// <param name="dieAfter">DieMidResponse: how long after the first DATA the connection is dropped.</param>
    public MisbehavingH2Upstream(Fault fault, TimeSpan? dieAfter = null)
    {
        _fault = fault;
        _dieAfter = dieAfter ?? TimeSpan.FromMilliseconds(100);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = Task.Run(AcceptLoop);
    }

    private async Task AcceptLoop()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var s = await _listener.AcceptSocketAsync(_stop.Token);
                _ = Task.Run(() => Serve(s));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    private static void Frame(Socket s, byte type, byte flags, int stream, ReadOnlySpan<byte> payload)
    {
        var b = new byte[9 + payload.Length];
        b[0] = (byte)(payload.Length >> 16); b[1] = (byte)(payload.Length >> 8); b[2] = (byte)payload.Length;
        b[3] = type; b[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(5), stream);
        payload.CopyTo(b.AsSpan(9));
        s.Send(b);
    }

    private async Task Serve(Socket s)
    {
        using var _ = s;
        using var ns = new NetworkStream(s, ownsSocket: false);
        try
        {
            var preface = new byte[H2ProbeConnection.Preface.Length];
            await ns.ReadExactlyAsync(preface, _stop.Token);
            Frame(s, FrameType.Settings, 0, 0, []);
            var header = new byte[9];
            while (true)
            {
                await ns.ReadExactlyAsync(header, _stop.Token);
                int len = header[0] << 16 | header[1] << 8 | header[2];
                var payload = new byte[len];
                await ns.ReadExactlyAsync(payload, _stop.Token);
                byte type = header[3], flags = header[4];
                int stream = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7fffffff;
                if (type == FrameType.Settings && (flags & FrameFlags.Ack) == 0) Frame(s, FrameType.Settings, FrameFlags.Ack, 0, []);
                if (type != FrameType.Headers) continue;
                Interlocked.Increment(ref Requests);
                if (_fault == Fault.ResetStream)
                {
                    var code = new byte[4];
                    BinaryPrimitives.WriteUInt32BigEndian(code, (uint)H2Error.InternalError);
                    Frame(s, FrameType.RstStream, 0, stream, code);
                    continue;
                }
                var block = new List<byte> { 0x88 }; // :status 200 (static index 8)
                block.AddRange(ProbeHpack.Encode([("content-length", "100000")]));
                Frame(s, FrameType.Headers, FrameFlags.EndHeaders, stream, block.ToArray());
                Frame(s, FrameType.Data, 0, stream, new byte[1000]);
                if (_dieAfter > TimeSpan.Zero) await Task.Delay(_dieAfter);
                s.Close(); // dies with 99,000 bytes still owed
                return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accept;
        _stop.Dispose();
    }
}

/// <summary>An h2 upstream that resets streams or dies mid-response: the client gets a clear failure
/// (503 or a stream reset, never a truncated success) and the sidecar keeps serving.</summary>
public sealed class Http2UpstreamFailureTests(UpstreamFixture f, ITestOutputHelper output) : IClassFixture<UpstreamFixture>
{
    private async Task<(SidecarProcess Sidecar, int Port)> Start(int badPort)
    {
        var cfg = new SidecarConfig();
        var port = cfg.AddHttpListener([new RouteSpec("/bad", "bad"), new RouteSpec("/", "web")], statPrefix: "h2up");
        cfg.AddCluster(new ClusterSpec("bad", badPort, Http2: true));
        cfg.AddCluster(new ClusterSpec("web", f.Peers.NginxPort));
        return (await SidecarProcess.Start(cfg, output), port);
    }

    [Fact]
    public async Task Upstream_reset_before_the_response_gives_503()
    {
        await using var bad = new MisbehavingH2Upstream(MisbehavingH2Upstream.Fault.ResetStream);
        var (sc, port) = await Start(bad.Port);
        using var _ = sc;
        var r = await Proc.Curl(["--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}",
            $"http://127.0.0.1:{port}/bad/x"]);
        Assert.True(r.StdOut == "503", r.ToString());
        Assert.True(bad.Requests >= 1, "the upstream never saw the request");
        await AssertStillServes(sc, port);
    }

    /// <summary>
    /// Upstream headers, part of the body, then the upstream connection drops: the client never gets END_STREAM on a
    /// truncated 200. Either the head went out and the stream is then reset (the usual order with the 100 ms delay), or
    /// the proxy saw the upstream gone before the head and answers 503 itself — dropped at once (0 ms), and on a loaded
    /// machine even after 100 ms, both happen. Checked frame by frame: curl's %{http_code} reads 000 when the reset
    /// arrives in the same read as the head (curl 7.88 drops the buffered head when the stream closes with an error).
    /// </summary>
    [Theory]
    [InlineData(100)]
    [InlineData(0)]
    public async Task Upstream_dying_mid_response_resets_the_client_stream(int dieAfterMs)
    {
        await using var bad = new MisbehavingH2Upstream(MisbehavingH2Upstream.Fault.DieMidResponse, TimeSpan.FromMilliseconds(dieAfterMs));
        var (sc, port) = await Start(bad.Port);
        using var _ = sc;
        var t = await H2Transcript.Get(port, "/bad/x");
        output.WriteLine(t.ToString());
        Assert.True(t.ProtocolViolation is null, t.ProtocolViolation + "\n" + t);
        Assert.True(t.Ending == "stream 1 ended", t.ToString());
        if (t.Status == "200")
        {
            Assert.DoesNotContain(t.Frames, fr => fr.Stream == 1 && fr.EndStream);
            Assert.True(t.DataBytes(1) < 100_000, t.ToString());
            Assert.True(t.Frames.Exists(fr => fr.Type == FrameType.RstStream && fr.Stream == 1), "stream 1 was not reset: " + t);
        }
        else
        {
            Assert.True(t.Status == "503" && t.Frames.Exists(fr => fr.Stream == 1 && fr.EndStream), "neither a reset 200 nor a 503: " + t);
        }
        // curl's view of the same: a reset stream (92) or a short body (18), or the proxy's own 503.
        var r = await Proc.Curl("--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", $"http://127.0.0.1:{port}/bad/x");
        output.WriteLine(r.ToString());
        Assert.True(r.ExitCode is 92 or 18 || (r.ExitCode == 0 && r.StdOut.StartsWith("503 ", StringComparison.Ordinal)), r.ToString());
        Assert.NotEqual("200 100000", r.StdOut);
        await AssertStillServes(sc, port);
    }

    /// <summary>
    /// The sidecar is alive and a fresh h2c connection gets an ordinary answer, checked frame by frame (what nghttp2
    /// would call a connection error is named) and with curl through a relay that records what the sidecar sent:
    /// curl's exit 52 ("empty reply") means nghttp2 rejected the first bytes (a first frame other than SETTINGS, bad
    /// HPACK, DATA before HEADERS...), and the failure message then shows those bytes and the sidecar's h2 counters.
    /// </summary>
    private static async Task AssertStillServes(SidecarProcess sc, int port)
    {
        Assert.False(sc.Process.HasExited, "sidecar died");
        await using (var relay = new RecordingRelay(port))
        {
            var r = await Proc.Curl("--http2-prior-knowledge", "-w", " %{http_code} %{http_version}", $"http://127.0.0.1:{relay.Port}/hello");
            if (r.StdOut != "hello\n 200 2")
            {
                await Task.Delay(100);
                Assert.Fail($"{r}\nsidecar sent {H2Transcript.DescribeFrames(relay.FromServer)}\n{await Http2Counters(sc)}");
            }
        }
        var t = await H2Transcript.Get(port, "/hello");
        Assert.True(t.ProtocolViolation is null && t.Status == "200" && t.Ending == "stream 1 ended", $"{t.ProtocolViolation} {t}\n{await Http2Counters(sc)}");
    }

    private static async Task<string> Http2Counters(SidecarProcess sc)
    {
        var lines = (await sc.Admin("GET", "/stats")).Split('\n')
            .Where(l => l.Contains("http2", StringComparison.Ordinal) || l.Contains("downstream_cx", StringComparison.Ordinal) || l.Contains("h2up", StringComparison.Ordinal));
        return string.Join("\n", lines.Where(l => !l.EndsWith(": 0", StringComparison.Ordinal)));
    }
}
