using System.Text;
using Sidecar.E2E.Tests.Harness;
using Sidecar.E2E.Tests.Http2Conformance;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>
/// CONNECT over HTTP/2 terminated by the sidecar (RFC 9113 §8.5, the shape HBONE uses): bytes relay
/// both ways through socat's echo, END_STREAM half-closes the upstream and its last answer still arrives.
/// </summary>
public sealed class Http2ConnectTunnelTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Connect_stream_is_a_tunnel_with_half_close()
    {
        using var echo = await SocatEchoPeer.Start();
        var cfg = new SidecarConfig();
        int port = cfg.AddHttpListener([new RouteSpec("CONNECT", "tunnel")]);
        cfg.AddCluster(new ClusterSpec("tunnel", echo.Port));
        using var sc = await SidecarProcess.Start(cfg, output);

        await using var c = await H2ProbeConnection.Open(ConformanceTarget.Loopback(port), TimeSpan.FromSeconds(5));
        var session = new ProbeSession(c);
        await session.Handshake();
        c.WriteHeaders(1, endStream: false, endHeaders: true, ProbeSession.Block((":method", "CONNECT"), (":authority", "echo.internal:443")));
        H2Frame head = await NextOn(c, 1);
        Assert.Equal(FrameType.Headers, head.Type);
        Assert.False(head.Has(FrameFlags.EndStream));

        c.WriteData(1, endStream: false, Encoding.ASCII.GetBytes("hello tunnel"));
        Assert.Equal("hello tunnel", await ReadData(c, "hello tunnel".Length));
        // END_STREAM with the last bytes: the echo still answers them, then the stream ends.
        c.WriteData(1, endStream: true, Encoding.ASCII.GetBytes("bye"));
        var tail = new StringBuilder();
        while (true)
        {
            H2Frame f = await NextOn(c, 1);
            Assert.Equal(FrameType.Data, f.Type);
            tail.Append(Encoding.ASCII.GetString(f.Payload));
            if (f.Has(FrameFlags.EndStream)) break;
        }
        Assert.Equal("bye", tail.ToString());
    }

    private static async Task<string> ReadData(H2ProbeConnection c, int length)
    {
        var text = new StringBuilder();
        while (text.Length < length)
        {
            H2Frame f = await NextOn(c, 1);
            Assert.Equal(FrameType.Data, f.Type);
            text.Append(Encoding.ASCII.GetString(f.Payload));
        }
        return text.ToString();
    }

    /// <summary>The next frame on <paramref name="stream"/>, skipping connection-level ones.</summary>
    private static async Task<H2Frame> NextOn(H2ProbeConnection c, uint stream)
    {
        while (true)
        {
            H2Event e = await c.Next(TimeSpan.FromSeconds(5));
            if (e is not H2Event.Frame { Value: var f }) throw new Xunit.Sdk.XunitException($"expected a frame on stream {stream}, got {e}");
            if (f.StreamId == stream) return f;
        }
    }
}
