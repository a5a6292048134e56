using System.Text;
using Sidecar.Core.Hpack;
using Sidecar.Core.Http2;
using Xunit;

namespace Sidecar.Core.Tests.Http2;

/// <summary>
/// Http2Head takes a name the decoder knows from the static table without scanning or comparing it, and any other
/// name with the full RFC 9113 §8.2/§8.3 checks. Every block here is sent both ways — names by static index, and the
/// same names as literals — and both must give the same verdict, the same fields and the same indices.
/// </summary>
public sealed class Http2HeadTests
{
    public static TheoryData<Http2HeadKind, string, string?> Blocks => new()
    {
        { Http2HeadKind.Request, ":method=GET|:scheme=http|:path=/hello|:authority=a.example|accept=*/*|user-agent=h2load|content-length=5", null },
        { Http2HeadKind.Request, ":method=POST|:scheme=https|:path=/|host=h.example|x-request-id=1|x-forwarded-for=1.2.3.4|te=trailers", null },
        { Http2HeadKind.Request, ":method=GET|:scheme=http|:path=/|transfer-encoding=chunked", "connection-specific header field" },
        { Http2HeadKind.Request, ":method=GET|accept=*/*|:path=/", "pseudo-header field after a regular field" },
        { Http2HeadKind.Request, ":method=GET|:path=/|:path=/x", "duplicate pseudo-header field" },
        { Http2HeadKind.Request, ":method=GET|:status=200", "unknown pseudo-header field" },
        { Http2HeadKind.Request, ":method=GET|:scheme=http|:path=/|content-length=5|content-length=6", "invalid content-length" },
        { Http2HeadKind.Request, ":method=GET|:scheme=http|:path=/|content-length=5x", "invalid content-length" },
        { Http2HeadKind.Request, ":method=GET|:scheme=http|:path=/|accept= x", "field value has leading or trailing whitespace" },
        { Http2HeadKind.Request, ":method=CONNECT|:authority=a:443", null },
        { Http2HeadKind.Request, ":method=GET|:scheme=http", "missing or empty :path" },
        { Http2HeadKind.Response, ":status=200|server=nginx/1.22.1|date=Fri, 27 Nov 2026 20:52:22 GMT|content-type=text/plain|content-length=13", null },
        { Http2HeadKind.Response, ":status=404|content-length=0", null },
        { Http2HeadKind.Response, ":status=304", null },
        { Http2HeadKind.Response, ":status=999", null },
        { Http2HeadKind.Response, ":status=099", "invalid :status" },
        { Http2HeadKind.Response, ":status=20a", "invalid :status" },
        { Http2HeadKind.Response, ":status=2000", "invalid :status" },
        { Http2HeadKind.Response, ":status=+20", "invalid :status" },
        { Http2HeadKind.Response, ":method=GET", "request pseudo-header in a response" },
        { Http2HeadKind.Response, "server=x", "missing :status" },
        { Http2HeadKind.Trailers, "grpc-status=0|content-length=4", null },
        { Http2HeadKind.Trailers, ":status=200", "pseudo-header field in trailers" },
    };

    [Theory]
    [MemberData(nameof(Blocks))]
    public void StaticAndLiteralNamesGiveTheSameHead(Http2HeadKind kind, string fields, string? error)
    {
        (string Name, string Value)[] list = Array.ConvertAll(fields.Split('|'), f => (f[..f.IndexOf('=', 1)], f[(f.IndexOf('=', 1) + 1)..]));
        using Http2Head byStatic = Decode(kind, list, staticNames: true);
        using Http2Head byLiteral = Decode(kind, list, staticNames: false);
        Assert.Equal(error, byStatic.Error);
        Assert.Equal(error, byLiteral.Error);
        Assert.Equal(Describe(byLiteral), Describe(byStatic));
        if (error is not null) return;
        for (int i = 0; i < byStatic.HeaderCount; i++)
        {
            // Static names are reported as such only when the decoder saw them so; literal ones never.
            int expected = HpackStaticTable.FindName(byStatic.GetHeaderName(i));
            Assert.Equal(expected, byStatic.GetStaticNameIndex(i));
            Assert.Equal(0, byLiteral.GetStaticNameIndex(i));
        }
    }

    [Fact]
    public void UpperCaseAndBadLiteralNamesAreStillRejected()
    {
        foreach (string bad in new[] { "Accept", "x y", "x:y", "\u00e9t\u00e9" })
        {
            using Http2Head head = Decode(Http2HeadKind.Request, [(":method", "GET"), (bad, "v")], staticNames: false);
            Assert.Equal("field name is not lower-case token characters", head.Error);
        }
        using Http2Head unknown = Decode(Http2HeadKind.Request, [(":method", "GET"), (":Path", "/")], staticNames: false);
        Assert.Equal("unknown pseudo-header field", unknown.Error);
    }

    private static Http2Head Decode(Http2HeadKind kind, (string Name, string Value)[] fields, bool staticNames)
    {
        var block = new List<byte>();
        Span<byte> integer = stackalloc byte[8];
        foreach ((string name, string value) in fields)
        {
            byte[] nameBytes = Encoding.Latin1.GetBytes(name);
            int index = staticNames ? HpackStaticTable.FindName(nameBytes) : 0;
            // §6.2.2 literal without indexing: by name index, or with the name as a raw string.
            HpackInteger.TryEncode(index, 4, 0x00, integer, out int n);
            block.AddRange(integer[..n].ToArray());
            if (index == 0) AddString(block, nameBytes);
            AddString(block, Encoding.Latin1.GetBytes(value));
        }
        var head = new Http2Head();
        head.Reset(kind);
        using var decoder = new HpackDecoder();
        Assert.Equal(HpackStatus.Ok, decoder.Decode(block.ToArray(), endHeaders: true, head));
        head.Complete(extendedConnectEnabled: false);
        return head;
    }

    private static void AddString(List<byte> block, byte[] raw)
    {
        Span<byte> integer = stackalloc byte[8];
        HpackInteger.TryEncode(raw.Length, 7, 0x00, integer, out int n);
        block.AddRange(integer[..n].ToArray());
        block.AddRange(raw);
    }

    private static string Describe(Http2Head head)
    {
        var text = new StringBuilder();
        text.Append(CultureInfoInvariant($"{head.Error}|{head.StatusCode}|{head.ContentLength}|{head.HostIndex}|{head.RequestIdIndex}|{head.ForwardedForIndex}|{head.TeTrailers}|{head.IsConnect}|"));
        text.Append(Encoding.Latin1.GetString(head.Method)).Append('|').Append(Encoding.Latin1.GetString(head.Scheme)).Append('|')
            .Append(Encoding.Latin1.GetString(head.Path)).Append('|').Append(Encoding.Latin1.GetString(head.Authority));
        for (int i = 0; i < head.HeaderCount; i++)
        {
            text.Append('|').Append(Encoding.Latin1.GetString(head.GetHeaderName(i))).Append('=').Append(Encoding.Latin1.GetString(head.GetHeaderValue(i)));
        }
        return text.ToString();
    }

    private static string CultureInfoInvariant(FormattableString s) => FormattableString.Invariant(s);
}
