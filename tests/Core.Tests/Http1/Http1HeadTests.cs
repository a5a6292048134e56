using System.Buffers;
using System.Text;
using Sidecar.Core.Http;
using Sidecar.Core.Http1;
using Xunit;

namespace Sidecar.Core.Tests.Http1;

public sealed class Http1HeadTests
{
    [Fact] // The limit applies to bytes received so far, so an endless line is cut without waiting for LF.
    public void HeadTooLargeWithoutAnyLf()
    {
        var limits = new Http1Limits(1024, 100);
        var (status, error, _) = Http1Parse.Request("GET /" + new string('a', 1100), limits);
        Assert.Equal(Http1ParseStatus.Error, status);
        Assert.Equal(Http1Error.HeadTooLarge, error);
        Assert.Equal(431, error.ToStatusCode());
    }

    [Fact]
    public void HeadTooLargeAcrossManyReads()
    {
        var limits = new Http1Limits(1024, 100);
        var head = new Http1Head();
        byte[] line = Encoding.ASCII.GetBytes("X-A: " + new string('b', 90) + "\r\n");
        Http1ParseStatus s = Parse("GET / HTTP/1.1\r\n"u8.ToArray(), head, limits, out _);
        Assert.Equal(Http1ParseStatus.Incomplete, s);
        Http1Error e = Http1Error.None;
        for (int i = 0; i < 20 && s == Http1ParseStatus.Incomplete; i++) s = Parse(line, head, limits, out e);
        Assert.Equal(Http1Error.HeadTooLarge, e);
    }

    [Fact]
    public void TooManyHeaders()
    {
        var sb = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
        for (int i = 0; i < 10; i++) sb.Append("X-").Append(i).Append(": v\r\n");
        var (_, error, _) = Http1Parse.Request(sb.Append("\r\n").ToString(), new Http1Limits(60 * 1024, 10));
        Assert.Equal(Http1Error.TooManyHeaders, error);
        Assert.Equal(431, error.ToStatusCode());
    }

    [Fact] // RFC 9112 §3.2.2: absolute-form; the proxy uses its authority and forwards origin-form.
    public void AbsoluteForm()
    {
        var (status, _, head) = Http1Parse.Request("GET http://example.com:8080/p/a?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
        Assert.Equal(Http1ParseStatus.Complete, status);
        Assert.Equal("/p/a?q=1", Encoding.ASCII.GetString(head.PathAndQuery));
        Assert.Equal("example.com:8080", Encoding.ASCII.GetString(head.Authority));
        var (_, _, noPath) = Http1Parse.Request("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
        Assert.Equal("/", Encoding.ASCII.GetString(noPath.PathAndQuery));
    }

    [Fact] // RFC 9112 §3.2.3: CONNECT takes authority-form, and only CONNECT does.
    public void AuthorityForm()
    {
        var (status, _, head) = Http1Parse.Request("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        Assert.Equal(Http1ParseStatus.Complete, status);
        Assert.True(head.IsConnect);
        Assert.Equal("example.com:443", Encoding.ASCII.GetString(head.Target));
        Assert.Equal(Http1Error.InvalidRequestTarget, Http1Parse.RequestError("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n"));
        Assert.Equal(Http1Error.InvalidRequestTarget, Http1Parse.RequestError("CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n"));
        Assert.Equal(Http1Error.InvalidRequestTarget, Http1Parse.RequestError("CONNECT u@example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n"));
        Assert.Equal(Http1Error.InvalidRequestTarget, Http1Parse.RequestError("GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n"));
    }

    [Fact] // RFC 9112 §3.2.4: asterisk-form only for OPTIONS.
    public void AsteriskForm()
    {
        Assert.Equal(Http1ParseStatus.Complete, Http1Parse.Request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").Status);
        Assert.Equal(Http1Error.InvalidRequestTarget, Http1Parse.RequestError("GET * HTTP/1.1\r\nHost: a\r\n\r\n"));
    }

    [Fact] // RFC 9112 §3.2: HTTP/1.1 without Host is 400; HTTP/1.0 may omit it.
    public void Host()
    {
        Assert.Equal(Http1Error.MissingHost, Http1Parse.RequestError("GET / HTTP/1.1\r\n\r\n"));
        Assert.Equal(Http1Error.DuplicateHost, Http1Parse.RequestError("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
        Assert.Equal(Http1ParseStatus.Complete, Http1Parse.Request("GET / HTTP/1.0\r\n\r\n").Status);
    }

    [Theory] // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 persists only with "keep-alive".
    [InlineData("HTTP/1.0", "", false)]
    [InlineData("HTTP/1.0", "Connection: keep-alive\r\n", true)]
    [InlineData("HTTP/1.0", "Connection: Keep-Alive, close\r\n", false)]
    [InlineData("HTTP/1.1", "", true)]
    [InlineData("HTTP/1.1", "Connection: close\r\n", false)]
    [InlineData("HTTP/1.1", "Connection: foo, CLOSE\r\n", false)]
    public void KeepAlive(string version, string fields, bool keepAlive)
    {
        var (status, _, head) = Http1Parse.Request($"GET / {version}\r\nHost: a\r\n{fields}\r\n");
        Assert.Equal(Http1ParseStatus.Complete, status);
        Assert.Equal(keepAlive, head.KeepAlive);
    }

    [Theory] // RFC 9112 §6.3 rules 1-2, 4-8.
    [InlineData(KnownMethod.Head, "200 OK", "Content-Length: 10\r\n", BodyFraming.None)]
    [InlineData(KnownMethod.Get, "100 Continue", "", BodyFraming.None)]
    [InlineData(KnownMethod.Get, "101 Switching Protocols", "", BodyFraming.None)]
    [InlineData(KnownMethod.Get, "204 No Content", "Content-Length: 10\r\n", BodyFraming.None)]
    [InlineData(KnownMethod.Get, "304 Not Modified", "Content-Length: 10\r\n", BodyFraming.None)]
    [InlineData(KnownMethod.Connect, "200 OK", "", BodyFraming.None)]
    [InlineData(KnownMethod.Connect, "407 Proxy Auth", "Content-Length: 3\r\n", BodyFraming.ContentLength)]
    [InlineData(KnownMethod.Get, "200 OK", "", BodyFraming.UntilClose)]
    [InlineData(KnownMethod.Get, "200 OK", "Content-Length: 0\r\n", BodyFraming.None)]
    [InlineData(KnownMethod.Get, "200 OK", "Transfer-Encoding: chunked\r\n", BodyFraming.Chunked)]
    [InlineData(KnownMethod.Get, "200 OK", "Transfer-Encoding: gzip\r\n", BodyFraming.UntilClose)]
    public void ResponseFraming(KnownMethod method, string status, string fields, BodyFraming expected)
    {
        var (s, _, head) = Http1Parse.Response($"HTTP/1.1 {status}\r\n{fields}\r\n");
        Assert.Equal(Http1ParseStatus.Complete, s);
        Assert.Equal(expected, Http1HeadParser.ResponseFraming(head, method));
    }

    [Fact] // RFC 9112 §7.1.2: trailer fields come back one line at a time, each with its CRLF.
    public void TrailersLineByLine()
    {
        var r = Http1Parse.Chunked("4\r\nWiki\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n");
        Assert.Equal(ChunkedStatus.Done, r.Status);
        Assert.Equal("Wiki", r.Body);
        Assert.Equal(["Expires: never\r\n", "X-Sum: 1\r\n"], r.Trailers);
        Assert.Equal(Http1Error.InvalidTrailer, Http1Parse.Chunked("0\r\nBad Name: x\r\n\r\n").Error);
        Assert.Equal(Http1Error.InvalidTrailer, Http1Parse.Chunked("0\r\nX: a\nY: b\r\n\r\n").Error);
    }

    [Fact] // RFC 9112 §2.2: empty lines before the request line are skipped and not part of the head.
    public void LeadingEmptyLinesAreNotPartOfTheMethod()
    {
        var (status, _, head) = Http1Parse.Request("\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(Http1ParseStatus.Complete, status);
        Assert.Equal("GET", Encoding.ASCII.GetString(head.Method));
        Assert.Equal("/x", Encoding.ASCII.GetString(head.Target));
        Assert.Equal(KnownMethod.Get, head.KnownMethod);
    }

    [Fact] // A head fresh from the constructor must behave like a reset one (Content-Length "absent" is -1).
    public void FreshHeadAcceptsContentLength()
    {
        var (status, _, head) = Http1Parse.Request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n");
        Assert.Equal(Http1ParseStatus.Complete, status);
        Assert.Equal(3, head.ContentLength);
    }

    private static Http1ParseStatus Parse(byte[] bytes, Http1Head head, Http1Limits limits, out Http1Error error)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        return Http1HeadParser.ParseRequest(ref reader, head, limits, out error);
    }
}
