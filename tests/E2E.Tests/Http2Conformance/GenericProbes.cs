using static Sidecar.E2E.Tests.Http2Conformance.H2Error;
using static Sidecar.E2E.Tests.Http2Conformance.ProbeBytes;

namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// h2spec's "generic" group: the endpoint accepts every well-formed frame type, request shape and HPACK
/// representation (RFC 9113 §5, §6, §8; RFC 7541 §6). Section numbers are h2spec's generic numbering.
/// </summary>
public static class GenericProbes
{

    public static void AddTo(ProbeCatalog c)
    {
        // 1 — Starting HTTP/2 (RFC 9113 §3.4)
        c.Add("generic/1", "Sends a client connection preface", async s =>
        {
            s.Conn.Send(H2ProbeConnection.Preface);
            s.Conn.WriteSettings();
            return await s.ExpectSettings(ack: false);
        });

        // 2 — Streams and Multiplexing (§5.1): frames allowed in each state are accepted
        c.Add("generic/2", "Sends a PRIORITY frame on idle stream", async s =>
        {
            await s.Handshake();
            s.Conn.WritePriority(1, new PriorityFields(0, false, 255));
            s.Conn.WritePing(false, Zero8);
            return await s.ExpectPingAck(Zero8);
        });
        c.Add("generic/2", "Sends a WINDOW_UPDATE frame on half-closed (remote) stream", async s =>
        {
            await s.Handshake();
            s.Conn.WriteSettings((SettingId.InitialWindowSize, 0)); // keeps the response open: no DATA may flow
            s.Get(1);
            s.Conn.WriteWindowUpdate(1, 1);
            return await s.ExpectFrame(FrameType.Data);
        });
        c.Add("generic/2", "Sends a PRIORITY frame on half-closed (remote) stream", async s =>
        {
            await s.Handshake();
            s.Conn.WriteSettings((SettingId.InitialWindowSize, 0));
            s.Get(1);
            s.Conn.WritePriority(1, new PriorityFields(0, false, 255));
            s.Conn.WriteWindowUpdate(1, 1);
            return await s.ExpectFrame(FrameType.Data);
        });
        c.Add("generic/2", "Sends a RST_STREAM frame on half-closed (remote) stream", async s =>
        {
            await s.Handshake();
            s.Get(1);
            s.Conn.WriteRstStream(1, (uint)Cancel);
            s.Conn.WritePing(false, Zero8);
            return await s.ExpectPingAck(Zero8, closeAlsoPasses: true);
        });
        c.Add("generic/2", "Sends a PRIORITY frame on closed stream", async s =>
        {
            await s.Handshake();
            s.Get(1);
            await ProbeSession.Must(s.ExpectStreamEnd());
            s.Conn.WritePriority(1, new PriorityFields(0, false, 255));
            s.Conn.WritePing(false, Zero8);
            return await s.ExpectPingAck(Zero8);
        });

        // 3.1 — DATA (§6.1)
        c.Add("generic/3.1", "Sends a DATA frame", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1);
            s.Conn.WriteData(1, true, Test);
            return await s.ExpectHeaders(1);
        });
        c.Add("generic/3.1", "Sends multiple DATA frames", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1);
            s.Conn.WriteData(1, false, Test);
            s.Conn.WriteData(1, true, Test);
            return await s.ExpectHeaders(1);
        });
        c.Add("generic/3.1", "Sends a DATA frame with padding", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1);
            s.Conn.WriteData(1, true, Test, padding: new byte[6]);
            return await s.ExpectHeaders(1);
        });

        // 3.2 — HEADERS (§6.2)
        c.Add("generic/3.2", "Sends a HEADERS frame", async s =>
        {
            await s.Handshake();
            s.Get(1);
            return await s.ExpectHeaders(1);
        });
        c.Add("generic/3.2", "Sends a HEADERS frame with padding", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, true, true, s.CommonBlock(), padLength: 8);
            return await s.ExpectHeaders(1);
        });
        c.Add("generic/3.2", "Sends a HEADERS frame with priority", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, true, true, s.CommonBlock(), priority: new PriorityFields(0, false, 255));
            return await s.ExpectHeaders(1);
        });

        // 3.3 — PRIORITY (§6.3): accepted in any stream state
        AddPriorityThenGet(c, "Sends a PRIORITY frame with priority 1", 1, new PriorityFields(0, false, 0));
        AddPriorityThenGet(c, "Sends a PRIORITY frame with priority 256", 1, new PriorityFields(0, false, 255));
        AddPriorityThenGet(c, "Sends a PRIORITY frame with stream dependency", 3, new PriorityFields(1, false, 0));
        AddPriorityThenGet(c, "Sends a PRIORITY frame with exclusive", 1, new PriorityFields(0, true, 0));
        AddPriorityThenGet(c, "Sends a PRIORITY frame for an idle stream, then send a HEADER frame for a lower stream ID", 3,
            new PriorityFields(0, false, 255));

        // 3.4 — RST_STREAM (§6.4)
        c.Add("generic/3.4", "Sends a RST_STREAM frame", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1);
            s.Conn.WriteRstStream(1, (uint)Cancel);
            s.Conn.WritePing(false, Zero8);
            return await s.ExpectPingAck(Zero8, closeAlsoPasses: true);
        });

        // 3.5 — SETTINGS (§6.5): every defined parameter at a legal value is acknowledged
        c.Add("generic/3.5", "Sends a SETTINGS frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteSettings((SettingId.HeaderTableSize, 4096), (SettingId.EnablePush, 1), (SettingId.MaxConcurrentStreams, 100),
                (SettingId.InitialWindowSize, 65535), (SettingId.MaxFrameSize, 16384), (SettingId.MaxHeaderListSize, 100));
            return await s.ExpectSettings(ack: true);
        });

        // 3.7 — PING (§6.7)
        c.Add("generic/3.7", "Sends a PING frame", async s =>
        {
            await s.Handshake();
            var data = "h2probe!"u8.ToArray();
            s.Conn.WritePing(false, data);
            return await s.ExpectPingAck(data);
        });

        // 3.8 — GOAWAY (§6.8): with no streams open, the peer finishes the shutdown by closing (as h2spec requires)
        c.Add("generic/3.8", "Sends a GOAWAY frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteGoAway(0, (uint)NoError, "h2probe"u8);
            return await s.ExpectConnectionClose();
        });

        // 3.9 — WINDOW_UPDATE (§6.9)
        c.Add("generic/3.9", "Sends a WINDOW_UPDATE frame with stream ID 0", async s =>
        {
            await s.Handshake();
            s.Conn.WriteWindowUpdate(0, 1);
            s.Conn.WritePing(false, Zero8);
            return await s.ExpectPingAck(Zero8);
        });
        c.Add("generic/3.9", "Sends a WINDOW_UPDATE frame with stream ID 1", async s =>
        {
            await s.Handshake();
            s.Get(1);
            s.Conn.WriteWindowUpdate(1, 1);
            return await s.ExpectHeaders(1);
        });

        // 3.10 — CONTINUATION (§6.10): a header block split across frames
        c.Add("generic/3.10", "Sends a CONTINUATION frame", async s =>
        {
            await s.Handshake();
            var block = s.CommonBlock();
            s.Conn.WriteHeaders(1, true, false, block.AsSpan(0, 5));
            s.Conn.WriteContinuation(1, true, block.AsSpan(5));
            return await s.ExpectHeaders(1);
        });
        c.Add("generic/3.10", "Sends multiple CONTINUATION frames", async s =>
        {
            await s.Handshake();
            var block = s.CommonBlock();
            s.Conn.WriteHeaders(1, true, false, block.AsSpan(0, 5));
            s.Conn.WriteContinuation(1, false, block.AsSpan(5, 5));
            s.Conn.WriteContinuation(1, true, block.AsSpan(10));
            return await s.ExpectHeaders(1);
        });

        // 4 — HTTP Message Exchanges (§8.1)
        c.Add("generic/4", "Sends a GET request", async s =>
        {
            await s.Handshake();
            s.Get(1);
            return await s.ExpectHeaders(1);
        });
        c.Add("generic/4", "Sends a HEAD request", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, true, true, s.CommonBlock("HEAD"));
            return await s.ExpectHeaders(1);
        });
        c.Add("generic/4", "Sends a POST request", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1);
            s.Conn.WriteData(1, true, Test);
            return await s.ExpectHeaders(1);
        });
        c.Add("generic/4", "Sends a POST request with trailers", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1, ("trailer", "x-test"));
            s.Conn.WriteData(1, false, Test);
            s.Conn.WriteHeaders(1, true, true, ProbeSession.Block(("x-test", "ok")));
            return await s.ExpectHeaders(1);
        });

        GenericHpackProbes.AddTo(c);
    }

    private static void AddPriorityThenGet(ProbeCatalog c, string description, uint priorityStream, PriorityFields priority) =>
        c.Add("generic/3.3", description, async s =>
        {
            await s.Handshake();
            s.Conn.WritePriority(priorityStream, priority);
            s.Get(1);
            return await s.ExpectHeaders(1);
        });
}
