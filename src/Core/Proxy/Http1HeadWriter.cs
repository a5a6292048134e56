using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http1;

namespace Sidecar.Core.Proxy;

/// <summary>
/// Serialises forwarded heads straight from the received bytes: each kept field line is copied as
/// is, hop-by-hop fields are dropped (RFC 9110 §7.6.1), and the proxy's own fields are appended.
/// </summary>
internal static class Http1HeadWriter
{
    public static void WriteRequestHead(PipeWriter pipe, Http1Head req, RouteModel route, VirtualHostModel vhost,
        RouteActionModel action, HttpChainRuntime chain, byte[] clientAddress, RequestAdjustments adjust, bool upgrade)
    {
        HttpConnectionManagerModel hcm = chain.Model;
        RouteConfigModel rc = hcm.RouteConfig;
        XfccAction xfcc = adjust.Xfcc(hcm);
        var w = new HeadSpan(pipe, req.HeadBytes + ExtraBytesHint);

        // request-line: always origin-form towards the upstream (RFC 9112 §3.2.1), HTTP/1.1.
        w.Write(req.Method);
        w.Write(" "u8);
        if (req.IsConnect) w.Write(req.Target);
        else WritePath(ref w, adjust.PathAndQuery(req.PathAndQuery), route, action);
        w.Write(" HTTP/1.1\r\n"u8);

        bool rewriteHost = action.HostRewriteLiteral is not null;
        bool appendXff = hcm.UseRemoteAddress;
        for (int i = 0; i < req.HeaderCount; i++)
        {
            KnownHeader known = req.GetKnownHeader(i);
            switch (known)
            {
                case KnownHeader.Upgrade when upgrade:
                    break;
                case KnownHeader.Connection or KnownHeader.KeepAlive or KnownHeader.ProxyConnection or KnownHeader.TE
                    or KnownHeader.Trailer or KnownHeader.TransferEncoding or KnownHeader.Upgrade:
                    if (known == KnownHeader.TE && req.TeTrailers)
                    {
                        // "TE: trailers" is the one TE value a proxy passes on (gRPC depends on it).
                        w.Write("te: trailers\r\n"u8);
                    }
                    continue;
                case KnownHeader.Expect when req.ExpectContinue:
                case KnownHeader.XForwardedProto:
                case KnownHeader.Host when rewriteHost:
                case KnownHeader.XForwardedFor when appendXff:
                    continue;
            }
            ReadOnlySpan<byte> name = req.GetHeaderName(i);
            if (req.ConnectionNamesOthers && IsNamedByConnection(req, name)) continue;
            if (IsRemovedOrOverwritten(name, route.RequestHeaders, vhost.RequestHeaders, rc.RequestHeaders)) continue;
            if (XfccFields.DropsReceived(xfcc) && XfccFields.IsXfcc(name)) continue;
            w.WriteLine(req.GetHeaderLine(i));
        }

        if (rewriteHost)
        {
            w.Write("host: "u8);
            w.WriteAscii(action.HostRewriteLiteral!);
            w.Write("\r\n"u8);
        }
        if (upgrade) w.Write("connection: upgrade\r\n"u8);
        if (req.Framing == BodyFraming.Chunked) w.Write("transfer-encoding: chunked\r\n"u8);
        w.Write("x-forwarded-proto: http\r\n"u8);
        if (appendXff)
        {
            w.Write("x-forwarded-for: "u8);
            if (req.ForwardedForIndex >= 0)
            {
                w.Write(req.GetHeaderValue(req.ForwardedForIndex));
                w.Write(","u8);
            }
            w.WriteLine(clientAddress);
        }
        if (req.RequestIdIndex < 0 && hcm.GenerateRequestId) WriteRequestId(ref w);
        if (xfcc is XfccAction.Append or XfccAction.Set)
        {
            // Written straight to the pipe by the shared XFCC code (HTTP/2 → HTTP/1 uses it too).
            w.Commit();
            XfccFields.WriteHttp1(pipe, req, xfcc, adjust.XfccElement(hcm));
            w = new HeadSpan(pipe, ExtraBytesHint);
        }
        TimeSpan expected = adjust.ExpectedTimeout(action);
        if (expected > TimeSpan.Zero)
        {
            w.Write("x-envoy-expected-rq-timeout-ms: "u8);
            w.WriteNumber((long)expected.TotalMilliseconds);
            w.Write("\r\n"u8);
        }
        WriteAdds(ref w, req, route.RequestHeaders);
        WriteAdds(ref w, req, vhost.RequestHeaders);
        WriteAdds(ref w, req, rc.RequestHeaders);
        w.Write("\r\n"u8);
        w.Commit();
    }

    public static void WriteResponseHead(PipeWriter pipe, Http1Head resp, RouteModel route, VirtualHostModel vhost,
        HttpChainRuntime chain, bool chunked, bool close, Http1Version clientVersion, long start, bool tunnel = false)
    {
        RouteConfigModel rc = chain.Model.RouteConfig;
        int status = resp.StatusCode;
        var w = new HeadSpan(pipe, resp.HeadBytes + ExtraBytesHint);
        w.Write("HTTP/1.1 "u8);
        w.WriteNumber(status);
        w.Write(" "u8);
        w.WriteLine(resp.ReasonLength > 0 ? resp.Reason : LocalReply.ReasonPhrase(status));

        for (int i = 0; i < resp.HeaderCount; i++)
        {
            KnownHeader known = resp.GetKnownHeader(i);
            if (KnownHeaders.IsHopByHop(known) && !(tunnel && known == KnownHeader.Upgrade)) continue;
            ReadOnlySpan<byte> name = resp.GetHeaderName(i);
            if (name.Length == 6 && Ascii.EqualsIgnoreCase(name, "server"u8)) continue;
            if (resp.ConnectionNamesOthers && IsNamedByConnection(resp, name)) continue;
            if (IsRemovedOrOverwritten(name, route.ResponseHeaders, vhost.ResponseHeaders, rc.ResponseHeaders)) continue;
            w.WriteLine(resp.GetHeaderLine(i));
        }

        w.Write("server: "u8);
        w.Write(chain.ServerName);
        w.Write("\r\nx-envoy-upstream-service-time: "u8);
        w.WriteNumber((long)Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        w.Write("\r\n"u8);
        if (tunnel && status == 101) w.Write("connection: upgrade\r\n"u8);
        else if (chunked) w.Write("transfer-encoding: chunked\r\n"u8);
        if (!tunnel)
        {
            if (close) w.Write("connection: close\r\n"u8);
            else if (clientVersion == Http1Version.Http10) w.Write("connection: keep-alive\r\n"u8);
        }
        WriteAdds(ref w, resp, route.ResponseHeaders);
        WriteAdds(ref w, resp, vhost.ResponseHeaders);
        WriteAdds(ref w, resp, rc.ResponseHeaders);
        w.Write("\r\n"u8);
        w.Commit();
    }

    /// <summary>1xx interim responses (other than 100 and 101) pass through as received.</summary>
    public static void WriteInterim(PipeWriter w, Http1Head resp)
    {
        w.Write("HTTP/1.1 "u8);
        WriteNumber(w, resp.StatusCode);
        w.Write(" "u8);
        w.Write(resp.Reason);
        w.Write("\r\n"u8);
        for (int i = 0; i < resp.HeaderCount; i++)
        {
            if (KnownHeaders.IsHopByHop(resp.GetKnownHeader(i))) continue;
            w.Write(resp.GetHeaderLine(i));
            w.Write("\r\n"u8);
        }
        w.Write("\r\n"u8);
    }

    private static void WritePath(ref HeadSpan w, ReadOnlySpan<byte> path, RouteModel route, RouteActionModel action)
    {
        string? rewrite = action.PrefixRewrite;
        if (rewrite is null || route.Match.Kind is not (PathMatchKind.Prefix or PathMatchKind.PathSeparatedPrefix or PathMatchKind.Path))
        {
            w.Write(path);
            return;
        }
        int matched = Math.Min(route.Match.Value.Length, path.Length);
        w.WriteAscii(rewrite);
        w.Write(path[matched..]);
    }

    internal static void WritePath(PipeWriter w, ReadOnlySpan<byte> path, RouteModel route, RouteActionModel action)
    {
        string? rewrite = action.PrefixRewrite;
        if (rewrite is null || route.Match.Kind is not (PathMatchKind.Prefix or PathMatchKind.PathSeparatedPrefix or PathMatchKind.Path))
        {
            w.Write(path);
            return;
        }
        int matched = Math.Min(route.Match.Value.Length, path.Length);
        WriteAscii(w, rewrite);
        w.Write(path[matched..]);
    }

    internal static bool IsNamedByConnection(Http1Head head, ReadOnlySpan<byte> name)
    {
        for (int i = 0; i < head.HeaderCount; i++)
        {
            if (head.GetKnownHeader(i) != KnownHeader.Connection) continue;
            ReadOnlySpan<byte> value = head.GetHeaderValue(i);
            foreach (Range r in value.Split((byte)','))
            {
                if (Ascii.EqualsIgnoreCase(value[r].Trim(" \t"u8), name)) return true;
            }
        }
        return false;
    }

    private static bool IsRemovedOrOverwritten(ReadOnlySpan<byte> name, HeaderMutationModel a, HeaderMutationModel b, HeaderMutationModel c)
        => HeaderMutations.IsRemovedOrOverwritten(name, a, b, c);

    private static void WriteAdds(ref HeadSpan w, Http1Head head, HeaderMutationModel m)
    {
        if (m.Add.IsDefaultOrEmpty) return;
        foreach (HeaderValueOptionModel add in m.Add)
        {
            if (add.Action == HeaderAppendAction.AddIfAbsent && IndexOfName(head, add.Name) >= 0) continue;
            w.Write(add.Line);
        }
    }

    private static int IndexOfName(Http1Head head, string name)
    {
        for (int i = 0; i < head.HeaderCount; i++)
        {
            if (Ascii.EqualsIgnoreCase(head.GetHeaderName(i), name)) return i;
        }
        return -1;
    }

    private static void WriteRequestId(ref HeadSpan w)
    {
        Span<byte> s = w.GetSpan(52);
        "x-request-id: "u8.CopyTo(s);
        RequestIds.Write(s.Slice(14, 36));
        s[50] = (byte)'\r';
        s[51] = (byte)'\n';
        w.Advance(52);
    }

    internal static void WriteAscii(PipeWriter w, string value)
    {
        Span<byte> s = w.GetSpan(value.Length);
        int n = Encoding.ASCII.GetBytes(value, s);
        w.Advance(n);
    }

    public static void WriteNumber(PipeWriter w, long value)
    {
        Span<byte> s = w.GetSpan(20);
        Utf8Formatter.TryFormat(value, s, out int n);
        w.Advance(n);
    }

    /// <summary>Room asked for beyond the received head: the proxy's own fields (x-forwarded-*, server, timing, adds).</summary>
    private const int ExtraBytesHint = 512;

    /// <summary>Above this a head is written in pieces: one pipe buffer block (Kestrel's pool hands out 4 KiB).</summary>
    private const int MaxSpanHint = 4096;

    /// <summary>
    /// Writes a head into the pipe's current buffer with plain span copies and one Advance at the end, instead of a
    /// GetSpan/Advance pair per piece (virtual calls, twice over through a transport's wrapping writer).
    /// </summary>
    private ref struct HeadSpan
    {
        private readonly PipeWriter _pipe;
        private Span<byte> _span;
        private int _used;

        public HeadSpan(PipeWriter pipe, int sizeHint)
        {
            _pipe = pipe;
            _span = pipe.GetSpan(Math.Min(sizeHint, MaxSpanHint));
            _used = 0;
        }

        public void Write(ReadOnlySpan<byte> bytes)
        {
            if (bytes.TryCopyTo(_span[_used..])) _used += bytes.Length;
            else WriteSlow(bytes);
        }

        /// <summary>Bytes followed by CRLF.</summary>
        public void WriteLine(ReadOnlySpan<byte> bytes)
        {
            Span<byte> free = _span[_used..];
            if (bytes.Length + 2 <= free.Length)
            {
                bytes.CopyTo(free);
                free[bytes.Length] = (byte)'\r';
                free[bytes.Length + 1] = (byte)'\n';
                _used += bytes.Length + 2;
                return;
            }
            WriteSlow(bytes);
            Write("\r\n"u8);
        }

        public void WriteNumber(long value)
        {
            Utf8Formatter.TryFormat(value, GetSpan(20), out int n);
            _used += n;
        }

        public void WriteAscii(string value) => _used += Encoding.ASCII.GetBytes(value, GetSpan(value.Length));

        public Span<byte> GetSpan(int size)
        {
            if (_span.Length - _used < size)
            {
                Commit();
                _span = _pipe.GetSpan(size);
            }
            return _span[_used..];
        }

        public void Advance(int count) => _used += count;

        /// <summary>Hands what was written to the pipe. Nothing may be written through this value afterwards.</summary>
        public void Commit()
        {
            if (_used > 0) _pipe.Advance(_used);
            _used = 0;
            _span = default;
        }

        private void WriteSlow(ReadOnlySpan<byte> bytes)
        {
            Commit();
            // The pipe's own Write splits a piece larger than one buffer block across blocks.
            _pipe.Write(bytes);
            _span = _pipe.GetSpan();
        }
    }
}
