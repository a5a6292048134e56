using Sidecar.Core.Http1;
using Xunit;

namespace Sidecar.Core.Tests.Http1;

/// <summary>Request shapes that let two parsers disagree on message boundaries; each must be refused.</summary>
public sealed class Http1SmugglingTests
{
    private const string Start = "POST / HTTP/1.1\r\nHost: a\r\n";

    [Fact] // RFC 9112 §6.1: TE with CL "ought to be handled as an error" by a proxy; we refuse.
    public void ContentLengthWithTransferEncoding() =>
        Assert.Equal(Http1Error.ContentLengthWithTransferEncoding,
            Http1Parse.RequestError(Start + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"));

    [Theory] // RFC 9110 §8.6 / RFC 9112 §6.3: differing (or repeated) lengths are unrecoverable framing errors.
    [InlineData("Content-Length: 5\r\nContent-Length: 6\r\n")]
    [InlineData("Content-Length: 5\r\nContent-Length: 5\r\n")]
    public void DuplicateContentLength(string fields) =>
        Assert.Equal(Http1Error.DuplicateContentLength, Http1Parse.RequestError(Start + fields + "\r\n"));

    [Theory] // RFC 9110 §8.6: Content-Length = 1*DIGIT; no sign, inner space, list or hex.
    [InlineData("+5")]
    [InlineData("-5")]
    [InlineData("5 5")]
    [InlineData("5,5")]
    [InlineData("5, 5")]
    [InlineData("0x5")]
    [InlineData("")]
    [InlineData("1000000000000000000000")]
    public void InvalidContentLength(string value) =>
        Assert.Equal(Http1Error.InvalidContentLength, Http1Parse.RequestError(Start + "Content-Length: " + value + "\r\n\r\n"));

    [Fact] // RFC 9112 §5: surrounding OWS is not part of the value.
    public void ContentLengthWithOwsIsFine()
    {
        var (status, _, head) = Http1Parse.Request(Start + "Content-Length: \t 5 \t\r\n\r\n");
        Assert.Equal(Http1ParseStatus.Complete, status);
        Assert.Equal(5, head.ContentLength);
        Assert.Equal(BodyFraming.ContentLength, head.Framing);
    }

    [Fact] // RFC 9112 §6.1: TE in an HTTP/1.0 message means faulty framing.
    public void TransferEncodingInHttp10() =>
        Assert.Equal(Http1Error.TransferEncodingInHttp10,
            Http1Parse.RequestError("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"));

    [Theory] // RFC 9112 §6.3 rule 4 / §6.1: final coding not chunked cannot be framed; we answer 501.
    [InlineData("gzip")]
    [InlineData("chunked, gzip")]
    [InlineData("chunkedchunked")]
    [InlineData("identity")]
    public void TransferEncodingNotEndingInChunked(string te)
    {
        Http1Error e = Http1Parse.RequestError(Start + "Transfer-Encoding: " + te + "\r\n\r\n");
        Assert.Equal(Http1Error.UnsupportedTransferEncoding, e);
        Assert.Equal(501, e.ToStatusCode());
    }

    [Fact] // A later Transfer-Encoding field is appended to the list (RFC 9110 §5.3): its last coding rules.
    public void TransferEncodingAcrossFieldsUsesTheLastCoding()
    {
        Assert.Equal(Http1Error.UnsupportedTransferEncoding,
            Http1Parse.RequestError(Start + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"));
        Assert.Equal(BodyFraming.Chunked,
            Http1Parse.Request(Start + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n").Head.Framing);
    }

    [Theory] // RFC 9112 §5.2: obs-fold is rejected with 400 by a server/proxy.
    [InlineData("X: a\r\n b\r\n")]
    [InlineData("X: a\r\n\tb\r\n")]
    public void ObsFold(string fields) =>
        Assert.Equal(Http1Error.ObsoleteLineFolding, Http1Parse.RequestError(Start + fields + "\r\n"));

    [Theory] // RFC 9112 §2.2: a bare LF as line terminator is not accepted by this (strict) recipient.
    [InlineData("GET / HTTP/1.1\nHost: a\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n\n")]
    public void BareLfInHead(string text) => Assert.Equal(Http1Error.BareLineFeed, Http1Parse.RequestError(text));

    [Theory] // RFC 9112 §5.1: no whitespace between field name and colon; MUST reject with 400.
    [InlineData("Content-Length : 5\r\n")]
    [InlineData("Transfer-Encoding\t: chunked\r\n")]
    public void WhitespaceBeforeColon(string field) =>
        Assert.Equal(Http1Error.WhitespaceBeforeColon, Http1Parse.RequestError(Start + field + "\r\n"));

    [Theory] // RFC 9110 §5.5: field values exclude NUL, CR, LF and other CTLs except HTAB.
    [InlineData("X: a\0b\r\n")]
    [InlineData("X: a\rb\r\n")]
    [InlineData("X: a\u0001b\r\n")]
    [InlineData("X: a\u007Fb\r\n")]
    public void CtlInValue(string field) =>
        Assert.Equal(Http1Error.InvalidHeaderValue, Http1Parse.RequestError(Start + field + "\r\n"));

    [Theory] // RFC 9112 §7.1: chunk-size = 1*HEXDIG; we also refuse sizes that overflow 63 bits.
    [InlineData("g\r\n")]
    [InlineData("\r\n")]
    [InlineData(" 1\r\na\r\n")]
    [InlineData("1 \r\na\r\n")]
    [InlineData("-1\r\n")]
    [InlineData("0x1\r\n")]
    [InlineData("8000000000000000\r\n")]
    [InlineData("FFFFFFFFFFFFFFFF\r\n")]
    [InlineData("10000000000000000\r\n")]
    [InlineData("1\na\r\n0\r\n\r\n")]
    public void InvalidChunkSize(string body) => Assert.Equal(Http1Error.InvalidChunkSize, Http1Parse.Chunked(body).Error);

    [Theory] // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ).
    [InlineData("1;\r\n")]
    [InlineData("1;a\u0001\r\n")]
    [InlineData("1;a=\"b\r\n")]
    [InlineData("1;a=\"b\0\"\r\n")]
    [InlineData("1;=b\r\n")]
    [InlineData("1;a=b c\r\n")]
    public void InvalidChunkExtension(string body) => Assert.Equal(Http1Error.InvalidChunkExtension, Http1Parse.Chunked(body).Error);

    [Theory]
    [InlineData("1;a\r\nx\r\n0\r\n\r\n")]
    [InlineData("1; a = b ;c=\"q\\\"s\" \r\nx\r\n0\r\n\r\n")]
    public void ValidChunkExtensionsAreDropped(string body)
    {
        var r = Http1Parse.Chunked(body);
        Assert.Equal(ChunkedStatus.Done, r.Status);
        Assert.Equal("x", r.Body);
    }

    [Theory] // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF.
    [InlineData("3\r\nabcX\r\n0\r\n\r\n")]
    [InlineData("3\r\nabc\n0\r\n\r\n")]
    [InlineData("3\r\nabc\rX")]
    [InlineData("0\r\n\rX")]
    public void MissingCrlfAfterChunkData(string body) =>
        Assert.Equal(Http1Error.InvalidChunkTerminator, Http1Parse.Chunked(body).Error);
}
