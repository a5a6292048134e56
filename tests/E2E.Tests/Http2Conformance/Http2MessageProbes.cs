using static Sidecar.E2E.Tests.Http2Conformance.H2Error;
using static Sidecar.E2E.Tests.Http2Conformance.ProbeBytes;

namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// h2spec "http2" group, header blocks and messages: §6.10 CONTINUATION, §7 error codes, §8.1 request
/// framing and malformed requests (RFC 9113 §8.1–§8.3; numbered by RFC 7540 sections as h2spec is), §8.2 push.
/// </summary>
public static class Http2MessageProbes
{

    private static byte[] Dummy1 => ProbeHpack.Encode(ProbeSession.DummyHeaders(1));

    public static void AddTo(ProbeCatalog c)
    {
        // 6.10 — CONTINUATION
        c.Add("http2/6.10", "Sends multiple CONTINUATION frames preceded by a HEADERS frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, true, false, s.CommonBlock());
            s.Conn.WriteContinuation(1, false, Dummy1);
            s.Conn.WriteContinuation(1, true, Dummy1);
            return await s.ExpectHeaders(1);
        });
        c.Add("http2/6.10", "Sends a CONTINUATION frame followed by any frame other than CONTINUATION", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, false, false, s.CommonBlock("POST"));
            s.Conn.WriteContinuation(1, false, Dummy1);
            s.Conn.WriteData(1, true, Test);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.10", "Sends a CONTINUATION frame with 0x0 stream identifier", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, true, false, s.CommonBlock());
            s.Conn.WriteContinuation(0, true, Dummy1);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.10", "Sends a CONTINUATION frame preceded by a HEADERS frame with END_HEADERS flag", async s =>
        {
            await s.Handshake();
            s.Get(1);
            s.Conn.WriteContinuation(1, true, Dummy1);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.10", "Sends a CONTINUATION frame preceded by a CONTINUATION frame with END_HEADERS flag", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, true, false, s.CommonBlock());
            s.Conn.WriteContinuation(1, true, Dummy1);
            s.Conn.WriteContinuation(1, true, Dummy1);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.10", "Sends a CONTINUATION frame preceded by a DATA frame", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1);
            s.Conn.WriteData(1, false, Test);
            s.Conn.WriteContinuation(1, true, Dummy1);
            return await s.ExpectConnectionError(ProtocolError);
        });

        // 7 — unknown error codes trigger nothing special
        c.Add("http2/7", "Sends a GOAWAY frame with unknown error code", async s =>
        {
            await s.Handshake();
            s.Conn.WriteGoAway(0, 0xff, []); // treated like any GOAWAY: no streams open, so the peer closes
            return await s.ExpectConnectionClose();
        });
        c.Add("http2/7", "Sends a RST_STREAM frame with unknown error code", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1);
            s.Conn.WriteRstStream(1, 0xff);
            s.Conn.WritePing(false, Zero8);
            return await s.ExpectPingAck(Zero8);
        });

        // 8.1 — a HEADERS frame after the request headers that does not end the stream (trailers must)
        c.Add("http2/8.1", "Sends a second HEADERS frame without the END_STREAM flag", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1);
            s.Conn.WriteData(1, false, Test);
            s.Conn.WriteHeaders(1, false, true, ProbeSession.Block(("x-test", "ok")));
            return await s.ExpectStreamError(ProtocolError);
        });

        // 8.1.2 — field names are lowercase
        AddMalformed(c, "http2/8.1.2", "Sends a HEADERS frame that contains the header field name in uppercase letters",
            s => [.. s.CommonHeaders(), ("X-TEST", "ok")]);

        // 8.1.2.1 — pseudo-header fields
        AddMalformed(c, "http2/8.1.2.1", "Sends a HEADERS frame that contains a unknown pseudo-header field",
            s => [.. s.CommonHeaders(), (":test", "ok")]);
        AddMalformed(c, "http2/8.1.2.1", "Sends a HEADERS frame that contains the pseudo-header field defined for response",
            s => [.. s.CommonHeaders(), (":status", "200")]);
        c.Add("http2/8.1.2.1", "Sends a HEADERS frame that contains a pseudo-header field as trailers", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1);
            s.Conn.WriteData(1, false, Test);
            s.Conn.WriteHeaders(1, true, true, ProbeSession.Block((":method", "POST")));
            return await s.ExpectStreamError(ProtocolError);
        });
        AddMalformed(c, "http2/8.1.2.1", "Sends a HEADERS frame that contains a pseudo-header field that appears in a header block after a regular header field",
            s => [("x-test", "ok"), .. s.CommonHeaders()]);

        // 8.1.2.2 — connection-specific fields
        AddMalformed(c, "http2/8.1.2.2", "Sends a HEADERS frame that contains the connection-specific header field",
            s => [.. s.CommonHeaders(), ("connection", "keep-alive")]);
        AddMalformed(c, "http2/8.1.2.2", "Sends a HEADERS frame that contains the TE header field with any value other than \"trailers\"",
            s => [.. s.CommonHeaders(), ("trailers", "test"), ("te", "trailers, deflate")]);

        // 8.1.2.3 — request pseudo-header fields: exactly one valid :method, :scheme, :path
        AddMalformed(c, "http2/8.1.2.3", "Sends a HEADERS frame with empty \":path\" pseudo-header field",
            s => s.CommonHeaders().Select(h => h.Name == ":path" ? (h.Name, "") : h).ToList());
        AddMalformed(c, "http2/8.1.2.3", "Sends a HEADERS frame that omits \":method\" pseudo-header field",
            s => s.CommonHeaders().Where(h => h.Name != ":method").ToList());
        AddMalformed(c, "http2/8.1.2.3", "Sends a HEADERS frame that omits \":scheme\" pseudo-header field",
            s => s.CommonHeaders().Where(h => h.Name != ":scheme").ToList());
        AddMalformed(c, "http2/8.1.2.3", "Sends a HEADERS frame that omits \":path\" pseudo-header field",
            s => s.CommonHeaders().Where(h => h.Name != ":path").ToList());
        AddMalformed(c, "http2/8.1.2.3", "Sends a HEADERS frame with duplicated \":method\" pseudo-header field",
            s => [.. s.CommonHeaders(), (":method", "GET")]);
        AddMalformed(c, "http2/8.1.2.3", "Sends a HEADERS frame with duplicated \":scheme\" pseudo-header field",
            s => [.. s.CommonHeaders(), (":scheme", "http")]);
        AddMalformed(c, "http2/8.1.2.3", "Sends a HEADERS frame with duplicated \":path\" pseudo-header field",
            s => [.. s.CommonHeaders(), (":path", s.Target.Path)]);

        // 8.1.2.6 — content-length must match the DATA payload
        c.Add("http2/8.1.2.6", "Sends a HEADERS frame with the \"content-length\" header field which does not equal the DATA frame payload length", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1, ("content-length", "1"));
            s.Conn.WriteData(1, true, Test);
            return await s.ExpectStreamError(ProtocolError);
        });
        c.Add("http2/8.1.2.6", "Sends a HEADERS frame with the \"content-length\" header field which does not equal the sum of the multiple DATA frames payload length", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1, ("content-length", "1"));
            s.Conn.WriteData(1, false, Test);
            s.Conn.WriteData(1, true, Test);
            return await s.ExpectStreamError(ProtocolError);
        });

        // 8.2 — a client cannot push
        c.Add("http2/8.2", "Sends a PUSH_PROMISE frame", async s =>
        {
            await s.Handshake();
            s.Conn.WritePushPromise(1, 3, true, s.CommonBlock());
            return await s.ExpectConnectionError(ProtocolError);
        });
    }

    /// <summary>A malformed request (§8.1.1 in RFC 9113): one HEADERS with the given fields → stream error PROTOCOL_ERROR.</summary>
    internal static void AddMalformed(ProbeCatalog c, string section, string description, Func<ProbeSession, List<(string Name, string Value)>> fields) =>
        c.Add(section, description, async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, true, true, ProbeHpack.Encode(fields(s)));
            return await s.ExpectStreamError(ProtocolError);
        });
}
