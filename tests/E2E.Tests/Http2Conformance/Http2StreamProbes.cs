using static Sidecar.E2E.Tests.Http2Conformance.H2Error;
using static Sidecar.E2E.Tests.Http2Conformance.ProbeBytes;

namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// h2spec "http2" group, connection start and streams: §3.5 preface, §4 frames and header blocks,
/// §5 stream states, identifiers, concurrency, dependencies, error handling and extensions
/// (numbered by RFC 7540 sections, as h2spec is; the rules are unchanged in RFC 9113).
/// </summary>
public static class Http2StreamProbes
{
    /// <summary>An unknown frame type (0x16) with an 8-octet payload on stream 0 (§4.1, §5.5).</summary>
    private static readonly byte[] UnknownFrame = [0, 0, 8, FrameType.Unknown, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    public static void AddTo(ProbeCatalog c)
    {
        // 3.5 — connection preface
        c.Add("http2/3.5", "Sends client connection preface", async s =>
        {
            s.Conn.Send(H2ProbeConnection.Preface);
            s.Conn.WriteSettings((SettingId.InitialWindowSize, 65535));
            return await s.ExpectSettings(ack: false);
        });
        c.Add("http2/3.5", "Sends invalid connection preface", async s =>
        {
            s.Conn.Send("INVALID CONNECTION PREFACE\r\n\r\n"u8);
            return await s.ExpectConnectionClose(); // nothing negotiated yet: only a close is meaningful
        });

        // 4.1 — frame format: unknown types, undefined flags and the reserved bit are ignored
        c.Add("http2/4.1", "Sends a frame with unknown type", async s =>
        {
            await s.Handshake();
            s.Conn.Send(UnknownFrame);
            s.Conn.WritePing(false, Zero8);
            return await s.ExpectPingAck(Zero8);
        });
        c.Add("http2/4.1", "Sends a frame with undefined flag", async s =>
        {
            await s.Handshake();
            s.Conn.WriteFrame(FrameType.Ping, 0x16, 0, Zero8);
            return await s.ExpectPingAck(Zero8);
        });
        c.Add("http2/4.1", "Sends a frame with reserved field bit", async s =>
        {
            await s.Handshake();
            s.Conn.WriteFrame(FrameType.Ping, 0x16, 0, Zero8, reservedBit: true);
            return await s.ExpectPingAck(Zero8);
        });

        // 4.2 — frame size
        c.Add("http2/4.2", "Sends a DATA frame with 2^14 octets in length", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1);
            s.Conn.WriteData(1, true, new byte[s.Conn.ServerMaxFrameSize]);
            return await s.ExpectHeaders(1);
        });
        c.Add("http2/4.2", "Sends a large size DATA frame that exceeds the SETTINGS_MAX_FRAME_SIZE", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1);
            s.Conn.WriteData(1, true, new byte[s.Conn.ServerMaxFrameSize + 1]);
            return await s.ExpectStreamError(FrameSizeError);
        });
        c.Add("http2/4.2", "Sends a large size HEADERS frame that exceeds the SETTINGS_MAX_FRAME_SIZE", async s =>
        {
            await s.Handshake();
            var h = s.CommonHeaders();
            h.AddRange(ProbeSession.DummyHeaders(5));
            s.Conn.WriteHeaders(1, true, true, ProbeHpack.Encode(h));
            return await s.ExpectConnectionError(FrameSizeError);
        });

        // 4.3 — header compression: decoding errors and interleaving inside a header block
        c.Add("http2/4.3", "Sends invalid header block fragment", async s =>
        {
            await s.Handshake();
            // literal with incremental indexing, new name, but no name length / string at all
            s.Conn.WriteHeaders(1, true, true, [0x40]);
            return await s.ExpectConnectionError(CompressionError);
        });
        c.Add("http2/4.3", "Sends a PRIORITY frame while sending the header blocks", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, false, false, s.CommonBlock());
            s.Conn.WritePriority(1, new PriorityFields(0, false, 255));
            s.Conn.WriteContinuation(1, true, ProbeHpack.Encode(ProbeSession.DummyHeaders(1)));
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/4.3", "Sends a HEADERS frame to another stream while sending the header blocks", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, false, false, s.CommonBlock());
            s.Get(3);
            s.Conn.WriteContinuation(1, true, ProbeHpack.Encode(ProbeSession.DummyHeaders(1)));
            return await s.ExpectConnectionError(ProtocolError);
        });

        AddStreamStates(c);

        // 5.1.1 — stream identifiers
        c.Add("http2/5.1.1", "Sends even-numbered stream identifier", async s =>
        {
            await s.Handshake();
            s.Get(2);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/5.1.1", "Sends stream identifier that is numerically smaller than previous", async s =>
        {
            await s.Handshake();
            s.Get(5);
            s.Get(3);
            return await s.ExpectConnectionError(ProtocolError);
        });

        // 5.1.2 — concurrency: one stream more than SETTINGS_MAX_CONCURRENT_STREAMS
        c.Add("http2/5.1.2", "Sends HEADERS frames that causes their advertised concurrent stream limit to be exceeded", async s =>
        {
            await s.Handshake();
            if (!s.Conn.ServerSettings.TryGetValue(SettingId.MaxConcurrentStreams, out var max) || max > 1000)
                return ProbeResult.Fail("server advertises SETTINGS_MAX_CONCURRENT_STREAMS ≤ 1000 (probe needs a limit)",
                    max == 0 ? "not advertised" : max.ToString());
            s.Conn.WriteSettings((SettingId.InitialWindowSize, 0)); // responses cannot finish, streams stay open
            for (uint i = 0; i <= max; i++) s.Get(1 + 2 * i);
            return await s.ExpectStreamError(ProtocolError, RefusedStream);
        });

        // 5.3.1 — a stream cannot depend on itself
        c.Add("http2/5.3.1", "Sends HEADERS frame that depends on itself", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, true, true, s.CommonBlock(), priority: new PriorityFields(1, false, 255));
            return await s.ExpectStreamError(ProtocolError);
        });
        c.Add("http2/5.3.1", "Sends PRIORITY frame that depend on itself", async s =>
        {
            await s.Handshake();
            s.Conn.WritePriority(1, new PriorityFields(1, false, 255));
            return await s.ExpectStreamError(ProtocolError);
        });

        // 5.4.1 — after a connection error the TCP connection is closed
        c.Add("http2/5.4.1", "Sends an invalid PING frame for connection close", async s =>
        {
            await s.Handshake();
            s.Conn.WriteFrame(FrameType.Ping, 0, 3, Zero8); // PING on a stream: connection error
            return await s.ExpectConnectionClose();
        });
        // a strict-mode check in h2spec ("SHOULD first send a GOAWAY"); kept because a proxy must say why it hangs up
        c.Add("http2/5.4.1", "Sends an invalid PING frame to receive GOAWAY frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteFrame(FrameType.Ping, 0, 3, Zero8);
            return await s.ExpectFrame(FrameType.GoAway);
        });

        // 5.5 — extensions
        c.Add("http2/5.5", "Sends an unknown extension frame", async s =>
        {
            await s.Handshake();
            s.Conn.Send(UnknownFrame);
            s.Conn.WritePing(false, Zero8);
            return await s.ExpectPingAck(Zero8);
        });
        c.Add("http2/5.5", "Sends an unknown extension frame in the middle of a header block", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, true, false, s.CommonBlock());
            s.Conn.Send(UnknownFrame);
            return await s.ExpectConnectionError(ProtocolError);
        });
    }

    /// <summary>5.1 — frames that a stream's state does not allow (idle, half-closed (remote), closed).</summary>
    private static void AddStreamStates(ProbeCatalog c)
    {
        c.Add("http2/5.1", "idle: Sends a DATA frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteData(1, true, Test);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/5.1", "idle: Sends a RST_STREAM frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteRstStream(1, (uint)Cancel);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/5.1", "idle: Sends a WINDOW_UPDATE frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteWindowUpdate(1, 100);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/5.1", "idle: Sends a CONTINUATION frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteContinuation(1, true, s.CommonBlock());
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/5.1", "half closed (remote): Sends a DATA frame", async s =>
        {
            await s.Handshake();
            s.Get(1);
            s.Conn.WriteData(1, true, Test);
            return await s.ExpectStreamError(StreamClosed);
        });
        c.Add("http2/5.1", "half closed (remote): Sends a HEADERS frame", async s =>
        {
            await s.Handshake();
            s.Get(1);
            s.Get(1);
            return await s.ExpectStreamError(StreamClosed);
        });
        c.Add("http2/5.1", "half closed (remote): Sends a CONTINUATION frame", async s =>
        {
            await s.Handshake();
            s.Get(1);
            s.Conn.WriteContinuation(1, true, s.CommonBlock());
            return await s.ExpectStreamError(StreamClosed, ProtocolError);
        });
        c.Add("http2/5.1", "closed: Sends a DATA frame after sending RST_STREAM frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, false, true, s.CommonBlock());
            s.Conn.WriteRstStream(1, (uint)Cancel);
            s.Conn.WriteData(1, true, Test);
            return await s.ExpectStreamError(StreamClosed);
        });
        c.Add("http2/5.1", "closed: Sends a HEADERS frame after sending RST_STREAM frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, false, true, s.CommonBlock());
            s.Conn.WriteRstStream(1, (uint)Cancel);
            s.Get(1);
            return await s.ExpectStreamError(StreamClosed);
        });
        c.Add("http2/5.1", "closed: Sends a CONTINUATION frame after sending RST_STREAM frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, false, true, s.CommonBlock());
            s.Conn.WriteRstStream(1, (uint)Cancel);
            s.Conn.WriteContinuation(1, true, ProbeHpack.Encode(ProbeSession.DummyHeaders(1)));
            return await s.ExpectStreamError(StreamClosed, ProtocolError);
        });
        c.Add("http2/5.1", "closed: Sends a DATA frame", async s =>
        {
            await s.Handshake();
            s.Get(1);
            await ProbeSession.Must(s.ExpectStreamEnd());
            s.Conn.WriteData(1, true, Test);
            return await s.ExpectConnectionError(StreamClosed);
        });
        c.Add("http2/5.1", "closed: Sends a HEADERS frame", async s =>
        {
            await s.Handshake();
            s.Get(1);
            await ProbeSession.Must(s.ExpectStreamEnd());
            s.Get(1);
            return await s.ExpectConnectionError(StreamClosed);
        });
        c.Add("http2/5.1", "closed: Sends a CONTINUATION frame", async s =>
        {
            await s.Handshake();
            s.Get(1);
            await ProbeSession.Must(s.ExpectStreamEnd());
            s.Conn.WriteContinuation(1, true, ProbeHpack.Encode(ProbeSession.DummyHeaders(1)));
            return await s.ExpectConnectionError(StreamClosed, ProtocolError);
        });
    }
}
