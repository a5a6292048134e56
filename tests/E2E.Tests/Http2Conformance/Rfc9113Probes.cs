using static Sidecar.E2E.Tests.Http2Conformance.H2Error;
using static Sidecar.E2E.Tests.Http2Conformance.ProbeBytes;

namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// Checks h2spec (written for RFC 7540) does not make, from rules RFC 9113 added or sharpened — the ones a
/// proxy must enforce before it rewrites a request into HTTP/1.1, where CR, LF or NUL in a field would let a
/// client smuggle a second request. Group "rfc9113", numbered by RFC 9113 sections.
/// </summary>
public static class Rfc9113Probes
{
    public static void AddTo(ProbeCatalog c)
    {
        // §8.2.1: field values MUST NOT contain NUL, LF or CR, nor start or end with SP/HTAB; names MUST NOT
        // contain 0x00-0x20, uppercase or 0x7f-0xff. Such requests are malformed (§8.1.1: stream error PROTOCOL_ERROR).
        Http2MessageProbes.AddMalformed(c, "rfc9113/8.2.1", "Sends a header field value containing CR LF",
            s => [.. s.CommonHeaders(), ("x-test", "ok\r\nx-injected: 1")]);
        Http2MessageProbes.AddMalformed(c, "rfc9113/8.2.1", "Sends a header field value containing LF",
            s => [.. s.CommonHeaders(), ("x-test", "ok\nx-injected: 1")]);
        Http2MessageProbes.AddMalformed(c, "rfc9113/8.2.1", "Sends a header field value containing NUL",
            s => [.. s.CommonHeaders(), ("x-test", "o\0k")]);
        Http2MessageProbes.AddMalformed(c, "rfc9113/8.2.1", "Sends a header field name containing a space",
            s => [.. s.CommonHeaders(), ("x test", "ok")]);
        Http2MessageProbes.AddMalformed(c, "rfc9113/8.2.1", "Sends a header field value with leading whitespace",
            s => [.. s.CommonHeaders(), ("x-test", " ok")]);

        // §8.1.1: content-length must equal the DATA received — none at all when HEADERS carries END_STREAM
        c.Add("rfc9113/8.1.1", "Sends a HEADERS frame with END_STREAM and a non-zero \"content-length\"", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, true, true, ProbeHpack.Encode([.. s.CommonHeaders("POST"), ("content-length", "4")]));
            return await s.ExpectStreamError(ProtocolError);
        });
        c.Add("rfc9113/8.1.1", "Sends DATA frames longer than the \"content-length\" before END_STREAM", async s =>
        {
            await s.Handshake();
            s.PostHeaders(1, ("content-length", "4"));
            s.Conn.WriteData(1, false, Test);
            s.Conn.WriteData(1, false, Test); // already 8 > 4: malformed without waiting for END_STREAM
            return await s.ExpectStreamError(ProtocolError);
        });
    }
}
