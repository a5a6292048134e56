using System.Buffers.Binary;
using System.Text;
using Sidecar.E2E.Tests.Harness;
using Sidecar.E2E.Tests.Http2Conformance;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>A raw h2c client on the probe suite's frame writer, for attacks no real client makes.</summary>
internal static class RawH2
{
    public static byte[] Request(string path, string method = "GET") =>
        ProbeHpack.Encode([(":method", method), (":scheme", "http"), (":path", path), (":authority", "e2e.local")]);

    public static async Task<H2ProbeConnection> Open(int port)
    {
        var c = await H2ProbeConnection.Open(ConformanceTarget.Loopback(port), TimeSpan.FromSeconds(5));
        c.Send(H2ProbeConnection.Preface);
        c.WriteSettings();
        return c;
    }

    /// <summary>Reads events until one matches (returned) or the connection closes / goes quiet (null); every event is logged.</summary>
    public static async Task<H2Frame?> WaitFor(H2ProbeConnection c, Func<H2Frame, bool> match, StringBuilder log, TimeSpan? quiet = null)
    {
        while (true)
        {
            var e = await c.Next(quiet ?? TimeSpan.FromSeconds(5));
            if (log.Length < 20_000) log.AppendLine(e.ToString());
            if (e is H2Event.Frame { Value: var f } && match(f)) return f;
            if (e is not H2Event.Frame) return null;
        }
    }

    /// <summary>After an attack: the process is alive and a fresh h2 client gets an ordinary answer.</summary>
    public static async Task AssertStillServes(SidecarProcess sc, int port)
    {
        Assert.False(sc.Process.HasExited, "sidecar died");
        var r = await Proc.Curl("--http2-prior-knowledge", "-w", " %{http_code} %{http_version}", $"http://127.0.0.1:{port}/hello");
        Assert.True(r.StdOut == "hello\n 200 2", r.ToString());
    }

    public static bool IsGoAway(H2Frame f) => f.Type == FrameType.GoAway;

    public static H2Error GoAwayCode(H2Frame f) => (H2Error)BinaryPrimitives.ReadUInt32BigEndian(f.Payload.AsSpan(4));
}

/// <summary>HTTP/2 flood and abuse defences through the real binary: each attack is cut off with the right
/// GOAWAY / reset, is counted in /stats, and the sidecar keeps serving ordinary requests afterwards.</summary>
public sealed class Http2DefenceTests(UpstreamFixture f, ITestOutputHelper output) : IClassFixture<UpstreamFixture>
{
    private async Task<(SidecarProcess Sidecar, int Port)> Start(string? h2Options = null, string? idleTimeout = null)
    {
        var cfg = new SidecarConfig();
        var port = cfg.AddHttpListener([new RouteSpec("/", "web")], statPrefix: "h2def", http2Options: h2Options, idleTimeout: idleTimeout);
        cfg.AddCluster(new ClusterSpec("web", f.Peers.NginxPort));
        return (await SidecarProcess.Start(cfg, output), port);
    }

    private static long Stat(Dictionary<string, string> s, string name) =>
        s.TryGetValue(name, out var v) ? long.Parse(v) : throw new Xunit.Sdk.XunitException($"stat {name} missing");

    /// <summary>
    /// Runs the attack and asserts the sidecar answered GOAWAY ENHANCE_YOUR_CALM. The sidecar closes right after its
    /// GOAWAY while attack frames are still unread in its socket buffer, and Linux then answers with a TCP RST
    /// that can destroy the GOAWAY before the client reads it (the sidecar does not linger on close; see the
    /// report). A reset is therefore accepted in place of the GOAWAY, and the caller's stat check proves the
    /// defence fired; a plain FIN or a timeout is not.
    /// </summary>
    private async Task Attack(int port, Action<H2ProbeConnection> attack)
    {
        await using var c = await RawH2.Open(port);
        // Finish the SETTINGS exchange first: the probe client acknowledges the server's SETTINGS from its
        // reader, and that ACK landing inside a header block would (rightly) be a PROTOCOL_ERROR instead.
        var handshake = new StringBuilder();
        Assert.True(await RawH2.WaitFor(c, f => f.Type == FrameType.Settings && f.Has(FrameFlags.Ack), handshake) != null, handshake.ToString());
        attack(c);
        var log = new StringBuilder();
        var goAway = await RawH2.WaitFor(c, RawH2.IsGoAway, log);
        output.WriteLine(log.ToString().Length > 3000 ? log.ToString()[..3000] : log.ToString());
        var text = log.ToString();
        if (goAway == null && text.Contains("connection closed (ConnectionReset)"))
        {
            output.WriteLine("GOAWAY lost to the TCP reset that followed it; judged by the stat counter");
            return;
        }
        Assert.True(goAway != null && RawH2.GoAwayCode(goAway) == H2Error.EnhanceYourCalm, text);
    }

    [Fact]
    public async Task Rapid_reset_gets_enhance_your_calm()
    {
        var (sc, port) = await Start();
        using var _ = sc;
        await Attack(port, c =>
        {
            var block = RawH2.Request("/slow?ms=2000");
            for (uint id = 1; id < 2 * 3000; id += 2)
            {
                c.WriteHeaders(id, endStream: true, endHeaders: true, block);
                c.WriteRstStream(id, (uint)H2Error.Cancel);
            }
        });
        var stats = await sc.Stats();
        Assert.True(Stat(stats, "http.h2def.http2.rapid_reset") > 0, "rapid_reset 0");
        Assert.True(Stat(stats, "http.h2def.http2.rx_reset") >= 1000, "rx_reset " + stats["http.h2def.http2.rx_reset"]);
        await RawH2.AssertStillServes(sc, port);
    }

    [Fact]
    public async Task Continuation_flood_gets_goaway_and_too_many_header_frames()
    {
        var (sc, port) = await Start();
        using var _ = sc;
        await Attack(port, c =>
        {
            var block = RawH2.Request("/hello");
            c.WriteHeaders(1, endStream: true, endHeaders: false, block);
            var crumb = ProbeHpack.Encode([("x-crumb", "0123456789")]);
            for (int i = 0; i < 1000; i++) c.WriteContinuation(1, endHeaders: false, crumb);
        });
        Assert.True(Stat(await sc.Stats(), "http.h2def.http2.too_many_header_frames") > 0, "too_many_header_frames 0");
        await RawH2.AssertStillServes(sc, port);
    }

    [Fact]
    public async Task Hpack_bomb_is_refused_with_431_or_reset_and_counted()
    {
        var (sc, port) = await Start();
        using var _ = sc;
        await using var c = await RawH2.Open(port);
        // one 4 KB entry added to the dynamic table (§6.2.1), then referenced 200 times (§6.1): 800 KB decoded from ~5 KB sent
        var o = new List<byte>(RawH2.Request("/hello"));
        o.Add(0x40);
        ProbeHpack.AppendString(o, "x-bomb");
        ProbeHpack.AppendString(o, new string('b', 4000));
        for (int i = 0; i < 200; i++) o.Add(0x80 | 62);
        c.WriteHeaders(1, endStream: true, endHeaders: true, o.ToArray());
        var log = new StringBuilder();
        var answer = await RawH2.WaitFor(c, fr => fr.StreamId == 1 && fr.Type is FrameType.Headers or FrameType.RstStream || RawH2.IsGoAway(fr), log);
        Assert.True(answer != null, log.ToString());
        Assert.True(answer.Type == FrameType.RstStream || answer.Type == FrameType.Headers && ResponseStatus.TryRead(answer) == 431,
            $"expected 431 or RST_STREAM, got {answer}\n{log}");
        Assert.True(Stat(await sc.Stats(), "http.h2def.http2.header_overflow") > 0, "header_overflow 0");
        // the HPACK table stayed in sync: the same connection still works
        c.WriteHeaders(3, endStream: true, endHeaders: true, RawH2.Request("/hello"));
        var next = await RawH2.WaitFor(c, fr => fr.StreamId == 3 && fr.Type == FrameType.Headers, log);
        Assert.True(next != null && ResponseStatus.TryRead(next) == 200, log.ToString());
        await RawH2.AssertStillServes(sc, port);
    }

    [Fact]
    public async Task Ping_flood_gets_goaway_and_outbound_control_flood()
    {
        var (sc, port) = await Start();
        using var _ = sc;
        await Attack(port, c =>
        {
            var opaque = new byte[8];
            for (int i = 0; i < 5000; i++) c.WritePing(ack: false, opaque);
        });
        Assert.True(Stat(await sc.Stats(), "http.h2def.http2.outbound_control_flood") > 0, "outbound_control_flood 0");
        await RawH2.AssertStillServes(sc, port);
    }

    [Fact]
    public async Task Empty_data_frame_flood_gets_goaway_and_is_counted()
    {
        var (sc, port) = await Start();
        using var _ = sc;
        await Attack(port, c =>
        {
            c.WriteHeaders(1, endStream: false, endHeaders: true, RawH2.Request("/echo", "POST"));
            for (int i = 0; i < 100; i++) c.WriteData(1, endStream: false, []);
        });
        Assert.True(Stat(await sc.Stats(), "http.h2def.http2.inbound_empty_frames_flood") > 0, "inbound_empty_frames_flood 0");
        await RawH2.AssertStillServes(sc, port);
    }

    [Fact]
    public async Task Garbage_instead_of_the_preface_is_closed_and_harmless()
    {
        var (sc, port) = await Start();
        using var _ = sc;
        using var s = await RawHttp.Connect(port);
        // starts like the preface (so AUTO picks HTTP/2) and then goes wrong
        var (data, closed) = await RawHttp.SendAndRead(s, "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\ngarbage garbage"u8.ToArray(), TimeSpan.FromSeconds(5));
        Assert.True(closed, $"connection left open after a bad preface; got {data.Length} bytes");
        // a valid preface followed by a frame that cannot exist (DATA on stream 0, §6.1): GOAWAY PROTOCOL_ERROR, then close
        await using var c = await RawH2.Open(port);
        c.WriteFrame(FrameType.Data, 0, 0, "junk"u8);
        var log = new StringBuilder();
        var goAway = await RawH2.WaitFor(c, RawH2.IsGoAway, log);
        Assert.True(goAway != null && RawH2.GoAwayCode(goAway) == H2Error.ProtocolError, log.ToString());
        Assert.True(await c.Next(TimeSpan.FromSeconds(5)) is H2Event.Closed, "connection left open after GOAWAY PROTOCOL_ERROR");
        await RawH2.AssertStillServes(sc, port);
    }

    [Fact]
    public async Task Silent_client_after_the_preface_is_closed_by_the_idle_timeout()
    {
        var (sc, port) = await Start(idleTimeout: "1s");
        using var _ = sc;
        await using var c = await RawH2.Open(port);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var log = new StringBuilder();
        H2Event e;
        do
        {
            e = await c.Next(TimeSpan.FromSeconds(10));
            log.AppendLine(e.ToString());
        } while (e is H2Event.Frame && sw.Elapsed < TimeSpan.FromSeconds(10));
        output.WriteLine($"closed after {sw.ElapsedMilliseconds} ms\n{log}");
        Assert.True(e is H2Event.Closed, log.ToString());
        Assert.True(sw.Elapsed > TimeSpan.FromMilliseconds(800) && sw.Elapsed < TimeSpan.FromSeconds(5), $"closed after {sw.ElapsedMilliseconds} ms");
        await RawH2.AssertStillServes(sc, port);
    }

    [Fact]
    public async Task Sigterm_sends_goaway_no_error_and_the_in_flight_request_completes()
    {
        var cfg = new SidecarConfig();
        var port = cfg.AddHttpListener([new RouteSpec("/", "web")], statPrefix: "h2drain");
        cfg.AddCluster(new ClusterSpec("web", f.Peers.NginxPort));
        using var sc = await SidecarProcess.Start(cfg, output, null, "--drain-time-s", "5");
        await using var c = await RawH2.Open(port);
        c.WriteHeaders(1, endStream: true, endHeaders: true, RawH2.Request("/slow?ms=1500&h2drain=1"));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!f.Peers.BackendRequests().Any(l => l.Contains("h2drain=1")) && sw.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(20);
        sc.Process.Signal(Proc.SIGTERM);
        var log = new StringBuilder();
        var goAway = await RawH2.WaitFor(c, RawH2.IsGoAway, log);
        Assert.True(goAway != null && RawH2.GoAwayCode(goAway) == H2Error.NoError, log.ToString());
        var headers = await RawH2.WaitFor(c, fr => fr.StreamId == 1 && fr.Type == FrameType.Headers, log);
        Assert.True(headers != null && ResponseStatus.TryRead(headers) == 200, log.ToString());
        var body = new StringBuilder();
        H2Frame? data;
        do
        {
            data = await RawH2.WaitFor(c, fr => fr.StreamId == 1 && fr.Type == FrameType.Data, log);
            if (data != null) body.Append(Encoding.ASCII.GetString(data.Payload));
        } while (data != null && !data.Has(FrameFlags.EndStream));
        Assert.True(body.ToString() == "slow done\n", log.ToString());
        Assert.True(await sc.Process.WaitForExit(TimeSpan.FromSeconds(10)), "sidecar did not exit after the drain");
    }
}
