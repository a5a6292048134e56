using static Sidecar.E2E.Tests.Http2Conformance.H2Error;
using static Sidecar.E2E.Tests.Http2Conformance.ProbeBytes;

namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// h2spec "http2" group, frame definitions (RFC 9113 §6, numbered by RFC 7540 sections as h2spec is):
/// stream-id rules, lengths, padding, SETTINGS values and synchronization, PING, GOAWAY, flow control.
/// </summary>
public static class Http2FrameProbes
{

    public static void AddTo(ProbeCatalog c)
    {
        // 6.1 — DATA
        c.Add("http2/6.1", "Sends a DATA frame with 0x0 stream identifier", async s =>
        {
            await s.Handshake();
            s.Conn.WriteData(0, true, Test);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.1", "Sends a DATA frame on the stream that is not in \"open\" or \"half-closed (local)\" state", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, true, true, s.CommonBlock("POST"));
            s.Conn.WriteData(1, true, Test);
            return await s.ExpectStreamError(StreamClosed);
        });
        c.Add("http2/6.1", "Sends a DATA frame with invalid pad length", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1, ("content-length", "4"));
            // length 5, PADDED|END_STREAM, pad length 6 ≥ payload length
            s.Conn.WriteFrame(FrameType.Data, FrameFlags.Padded | FrameFlags.EndStream, 1, [6, .. Test]);
            return await s.ExpectConnectionError(ProtocolError);
        });

        // 6.2 — HEADERS
        c.Add("http2/6.2", "Sends a HEADERS frame without the END_HEADERS flag, and a PRIORITY frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, false, false, s.CommonBlock());
            s.Conn.WritePriority(1, new PriorityFields(0, false, 255));
            s.Conn.WriteContinuation(1, true, ProbeHpack.Encode(ProbeSession.DummyHeaders(1)));
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.2", "Sends a HEADERS frame to another stream while sending a HEADERS frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, false, false, s.CommonBlock());
            s.Get(3);
            s.Conn.WriteContinuation(1, true, ProbeHpack.Encode(ProbeSession.DummyHeaders(1)));
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.2", "Sends a HEADERS frame with 0x0 stream identifier", async s =>
        {
            await s.Handshake();
            s.Get(0);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.2", "Sends a HEADERS frame with invalid pad length", async s =>
        {
            await s.Handshake();
            var block = s.CommonBlock();
            // PADDED, pad length = block + 2 > what remains of the payload (block + 1 octets in all)
            s.Conn.WriteFrame(FrameType.Headers, FrameFlags.Padded | FrameFlags.EndHeaders | FrameFlags.EndStream, 1,
                [(byte)(block.Length + 2), .. block]);
            return await s.ExpectStreamError(ProtocolError);
        });

        // 6.3 — PRIORITY
        c.Add("http2/6.3", "Sends a PRIORITY frame with 0x0 stream identifier", async s =>
        {
            await s.Handshake();
            s.Conn.WritePriority(0, new PriorityFields(0, false, 255));
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.3", "Sends a PRIORITY frame with a length other than 5 octets", async s =>
        {
            await s.Handshake();
            s.Get(1);
            s.Conn.WriteFrame(FrameType.Priority, 0, 1, [0x80, 0, 0, 1]);
            return await s.ExpectStreamError(FrameSizeError);
        });

        // 6.4 — RST_STREAM
        c.Add("http2/6.4", "Sends a RST_STREAM frame with 0x0 stream identifier", async s =>
        {
            await s.Handshake();
            s.Conn.WriteRstStream(0, (uint)Cancel);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.4", "Sends a RST_STREAM frame on a idle stream", async s =>
        {
            await s.Handshake();
            s.Conn.WriteRstStream(1, (uint)Cancel);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.4", "Sends a RST_STREAM frame with a length other than 4 octets", async s =>
        {
            await s.Handshake();
            s.Get(1);
            s.Conn.WriteFrame(FrameType.RstStream, 0, 1, [0, 0, 0]);
            return await s.ExpectConnectionError(FrameSizeError);
        });

        // 6.5 — SETTINGS
        c.Add("http2/6.5", "Sends a SETTINGS frame with ACK flag and payload", async s =>
        {
            await s.Handshake();
            s.Conn.WriteFrame(FrameType.Settings, FrameFlags.Ack, 0, [0]);
            return await s.ExpectConnectionError(FrameSizeError);
        });
        c.Add("http2/6.5", "Sends a SETTINGS frame with a stream identifier other than 0x0", async s =>
        {
            await s.Handshake();
            s.Conn.WriteFrame(FrameType.Settings, 0, 1, [0, 3, 0, 0, 0, 0x64]);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.5", "Sends a SETTINGS frame with a length other than a multiple of 6 octets", async s =>
        {
            await s.Handshake();
            s.Conn.WriteFrame(FrameType.Settings, 0, 0, [0, 3, 0, 0, 0, 0x64, 0, 2]);
            return await s.ExpectConnectionError(FrameSizeError, ProtocolError);
        });

        // 6.5.2 — defined SETTINGS parameters
        AddBadSetting(c, "SETTINGS_ENABLE_PUSH (0x2): Sends the value other than 0 or 1", SettingId.EnablePush, 2, ProtocolError);
        AddBadSetting(c, "SETTINGS_INITIAL_WINDOW_SIZE (0x4): Sends the value above the maximum flow control window size",
            SettingId.InitialWindowSize, 2147483648, FlowControlError);
        AddBadSetting(c, "SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value below the initial value", SettingId.MaxFrameSize, 16383, ProtocolError);
        AddBadSetting(c, "SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value above the maximum allowed frame size",
            SettingId.MaxFrameSize, 16777216, ProtocolError);
        c.Add("http2/6.5.2", "Sends a SETTINGS frame with unknown identifier", async s =>
        {
            await s.Handshake();
            s.Conn.WriteSettings((0xff, 1));
            s.Conn.WritePing(false, Zero8);
            return await s.ExpectPingAck(Zero8);
        });

        // 6.5.3 — settings synchronization
        c.Add("http2/6.5.3", "Sends multiple values of SETTINGS_INITIAL_WINDOW_SIZE", async s =>
        {
            await s.Handshake();
            s.Conn.WriteSettings((SettingId.InitialWindowSize, 100), (SettingId.InitialWindowSize, 1)); // in order: the last wins
            await ProbeSession.Must(s.ExpectSettings(ack: true));
            s.Get(1);
            return await s.ExpectDataLength(1);
        });
        c.Add("http2/6.5.3", "Sends a SETTINGS frame without ACK flag", async s =>
        {
            await s.Handshake();
            s.Conn.WriteSettings((SettingId.EnablePush, 0));
            return await s.ExpectSettings(ack: true);
        });

        // 6.7 — PING
        c.Add("http2/6.7", "Sends a PING frame", async s =>
        {
            await s.Handshake();
            var data = "h2spec\0\0"u8.ToArray();
            s.Conn.WritePing(false, data);
            return await s.ExpectPingAck(data);
        });
        c.Add("http2/6.7", "Sends a PING frame with ACK", async s =>
        {
            await s.Handshake();
            var unexpected = "invalid\0"u8.ToArray();
            var expected = "h2spec\0\0"u8.ToArray();
            s.Conn.WritePing(true, unexpected); // must not be answered
            s.Conn.WritePing(false, expected);
            return await s.ExpectPingAck(expected, mustNotEcho: unexpected);
        });
        c.Add("http2/6.7", "Sends a PING frame with a stream identifier field value other than 0x0", async s =>
        {
            await s.Handshake();
            s.Conn.WriteFrame(FrameType.Ping, 0, 1, Zero8);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.7", "Sends a PING frame with a length field value other than 8", async s =>
        {
            await s.Handshake();
            s.Conn.WriteFrame(FrameType.Ping, 0, 0, new byte[6]);
            return await s.ExpectConnectionError(FrameSizeError);
        });

        // 6.8 — GOAWAY
        c.Add("http2/6.8", "Sends a GOAWAY frame with a stream identifier other than 0x0", async s =>
        {
            await s.Handshake();
            s.Conn.WriteFrame(FrameType.GoAway, 0, 1, Zero8);
            return await s.ExpectConnectionError(ProtocolError);
        });

        Http2FlowControlProbes.AddTo(c);
    }

    private static void AddBadSetting(ProbeCatalog c, string description, ushort id, uint value, H2Error code) =>
        c.Add("http2/6.5.2", description, async s =>
        {
            await s.Handshake();
            s.Conn.WriteSettings((id, value));
            return await s.ExpectConnectionError(code);
        });
}
