using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http2;

namespace Sidecar.Core.Proxy.Http2;

/// <summary>Writes an HTTP/2 request as an HTTP/1.1 request head (RFC 9113 §8.3.1 ↔ RFC 9112 §3).</summary>
internal static class Http2ToHttp1
{
    public static void WriteRequestHead(PipeWriter w, Http2Head req, RouteModel route, VirtualHostModel vhost,
        RouteActionModel action, HttpChainRuntime chain, byte[] clientAddress, RequestAdjustments adjust, bool chunked)
    {
        HttpConnectionManagerModel hcm = chain.Model;
        RouteConfigModel rc = hcm.RouteConfig;
        XfccAction xfcc = adjust.Xfcc(hcm);
        w.Write(req.Method);
        w.Write(" "u8);
        Http1HeadWriter.WritePath(w, adjust.PathAndQuery(req.PathAndQuery), route, action);
        w.Write(" HTTP/1.1\r\nhost: "u8);
        // §8.3.1: :authority becomes Host; a route's host_rewrite_literal replaces it.
        if (action.HostRewriteLiteral is { } host) Http1HeadWriter.WriteAscii(w, host);
        else w.Write(req.Authority);
        w.Write("\r\n"u8);
        bool appendXff = hcm.UseRemoteAddress;
        bool cookieWritten = false;
        for (int i = 0; i < req.HeaderCount; i++)
        {
            if (i == req.HostIndex) continue;
            ReadOnlySpan<byte> name = req.GetHeaderName(i);
            if (name.SequenceEqual("x-forwarded-proto"u8) || (appendXff && i == req.ForwardedForIndex)) continue;
            if (HeaderMutations.IsRemovedOrOverwritten(name, route.RequestHeaders, vhost.RequestHeaders, rc.RequestHeaders)) continue;
            if (XfccFields.DropsReceived(xfcc) && XfccFields.IsXfcc(name)) continue;
            if (name.SequenceEqual("cookie"u8))
            {
                // §8.2.3: split cookie fields are joined with "; " for HTTP/1.1.
                if (cookieWritten) continue;
                cookieWritten = true;
                WriteJoinedCookies(w, req, i);
                continue;
            }
            w.Write(name);
            w.Write(": "u8);
            w.Write(req.GetHeaderValue(i));
            w.Write("\r\n"u8);
        }
        if (chunked) w.Write("transfer-encoding: chunked\r\n"u8);
        w.Write("x-forwarded-proto: http\r\n"u8);
        if (appendXff)
        {
            w.Write("x-forwarded-for: "u8);
            if (req.ForwardedForIndex >= 0)
            {
                w.Write(req.GetHeaderValue(req.ForwardedForIndex));
                w.Write(","u8);
            }
            w.Write(clientAddress);
            w.Write("\r\n"u8);
        }
        if (req.RequestIdIndex < 0 && hcm.GenerateRequestId)
        {
            Span<byte> s = w.GetSpan(52);
            "x-request-id: "u8.CopyTo(s);
            RequestIds.Write(s.Slice(14, 36));
            "\r\n"u8.CopyTo(s[50..]);
            w.Advance(52);
        }
        if (xfcc is XfccAction.Append or XfccAction.Set) XfccFields.WriteHttp1(w, req, xfcc, adjust.XfccElement(hcm));
        TimeSpan expected = adjust.ExpectedTimeout(action);
        if (expected > TimeSpan.Zero)
        {
            w.Write("x-envoy-expected-rq-timeout-ms: "u8);
            Http1HeadWriter.WriteNumber(w, (long)expected.TotalMilliseconds);
            w.Write("\r\n"u8);
        }
        WriteAdds(w, route.RequestHeaders);
        WriteAdds(w, vhost.RequestHeaders);
        WriteAdds(w, rc.RequestHeaders);
        w.Write("\r\n"u8);
    }

    /// <summary>RFC 8441 §5 in reverse: the extended CONNECT becomes the RFC 6455 §4.1 opening handshake.</summary>
    public static void WriteWebSocketUpgrade(PipeWriter w, Http2Head req, RouteModel route, VirtualHostModel vhost,
        RouteActionModel action, HttpChainRuntime chain, byte[] clientAddress, RequestAdjustments adjust)
    {
        XfccAction xfcc = adjust.Xfcc(chain.Model);
        w.Write("GET "u8);
        Http1HeadWriter.WritePath(w, adjust.PathAndQuery(req.PathAndQuery), route, action);
        w.Write(" HTTP/1.1\r\nhost: "u8);
        if (action.HostRewriteLiteral is { } host) Http1HeadWriter.WriteAscii(w, host);
        else w.Write(req.Authority);
        w.Write("\r\nconnection: upgrade\r\nupgrade: websocket\r\n"u8);
        bool hasKey = false;
        for (int i = 0; i < req.HeaderCount; i++)
        {
            if (i == req.HostIndex) continue;
            ReadOnlySpan<byte> name = req.GetHeaderName(i);
            if (name.SequenceEqual("sec-websocket-key"u8)) hasKey = true;
            if (XfccFields.DropsReceived(xfcc) && XfccFields.IsXfcc(name)) continue;
            w.Write(name);
            w.Write(": "u8);
            w.Write(req.GetHeaderValue(i));
            w.Write("\r\n"u8);
        }
        if (!hasKey)
        {
            // RFC 8441 clients send no key; the HTTP/1.1 server requires one (its accept value is not forwarded).
            Span<byte> nonce = stackalloc byte[16];
            Random.Shared.NextBytes(nonce);
            w.Write("sec-websocket-key: "u8);
            Span<byte> b64 = w.GetSpan(24);
            System.Buffers.Text.Base64.EncodeToUtf8(nonce, b64, out _, out int written);
            w.Advance(written);
            w.Write("\r\n"u8);
        }
        if (xfcc is XfccAction.Append or XfccAction.Set) XfccFields.WriteHttp1(w, req, xfcc, adjust.XfccElement(chain.Model));
        w.Write("x-forwarded-proto: http\r\n\r\n"u8);
    }

    /// <summary>Request trailers become the chunked trailer section (RFC 9112 §7.1.2).</summary>
    public static void WriteLastChunk(PipeWriter w, Http2Head? trailers)
    {
        w.Write("0\r\n"u8);
        if (trailers is not null)
        {
            for (int i = 0; i < trailers.HeaderCount; i++)
            {
                w.Write(trailers.GetHeaderName(i));
                w.Write(": "u8);
                w.Write(trailers.GetHeaderValue(i));
                w.Write("\r\n"u8);
            }
        }
        w.Write("\r\n"u8);
    }

    public static void WriteChunkHeader(PipeWriter w, long length)
    {
        Span<byte> s = w.GetSpan(20);
        length.TryFormat(s, out int n, "x");
        s[n] = (byte)'\r';
        s[n + 1] = (byte)'\n';
        w.Advance(n + 2);
    }

    private static void WriteJoinedCookies(PipeWriter w, Http2Head req, int first)
    {
        w.Write("cookie: "u8);
        bool any = false;
        for (int i = first; i < req.HeaderCount; i++)
        {
            if (!req.GetHeaderName(i).SequenceEqual("cookie"u8)) continue;
            if (any) w.Write("; "u8);
            w.Write(req.GetHeaderValue(i));
            any = true;
        }
        w.Write("\r\n"u8);
    }

    private static void WriteAdds(PipeWriter w, HeaderMutationModel m)
    {
        if (m.Add.IsDefaultOrEmpty) return;
        foreach (HeaderValueOptionModel add in m.Add) w.Write(add.Line);
    }

}
