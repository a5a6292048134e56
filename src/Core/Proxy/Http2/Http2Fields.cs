using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Hpack;
using Sidecar.Core.Http1;
using Sidecar.Core.Http2;

namespace Sidecar.Core.Proxy.Http2;

/// <summary>
/// Encodes the header blocks the proxy sends on HTTP/2: responses translated from HTTP/1.1 heads,
/// requests and responses forwarded HTTP/2 to HTTP/2, and local replies. Names are lower-cased by
/// the encoder (RFC 9113 §8.2.1); connection-specific fields are dropped (§8.2.2).
/// </summary>
internal static class Http2Fields
{
    // Names the proxy writes on every message, prepared once (hash and static index): see HpackFieldName.
    private static readonly HpackFieldName UpstreamServiceTime = new("x-envoy-upstream-service-time");
    private static readonly HpackFieldName ExpectedTimeout = new("x-envoy-expected-rq-timeout-ms");
    private static readonly HpackFieldName ForwardedProto = new("x-forwarded-proto");
    private static readonly HpackFieldName ForwardedFor = new("x-forwarded-for");
    private static readonly HpackFieldName RequestId = new("x-request-id");
    private static readonly HpackFieldName Te = new("te");

    /// <summary>"server" in the static table (RFC 7541 Appendix A).</summary>
    private const int ServerStaticIndex = 54;

    /// <summary>:status — the static table's codes are one byte (RFC 7541 Appendix A).</summary>
    public static void Status(HpackEncoder enc, IBufferWriter<byte> block, int status) => enc.EncodeStatus(status, block);

    [SkipLocalsInit]
    public static void Number(HpackEncoder enc, IBufferWriter<byte> block, ReadOnlySpan<byte> name, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        enc.Encode(name, Digits(value, digits), false, block);
    }

    [SkipLocalsInit]
    public static void Number(HpackEncoder enc, IBufferWriter<byte> block, HpackFieldName name, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        enc.Encode(name, Digits(value, digits), false, block);
    }

    /// <summary>
    /// Decimal digits of <paramref name="value"/> (the 20-byte room holds any long). The proxy's numbers are small
    /// non-negative ones (service time, timeouts, lengths): written straight; others go through the formatter.
    /// </summary>
    private static ReadOnlySpan<byte> Digits(long value, Span<byte> room)
    {
        if ((ulong)value < 10)
        {
            room[0] = (byte)('0' + value);
            return room[..1];
        }
        if ((ulong)value >= 1_000_000_000)
        {
            Utf8Formatter.TryFormat(value, room, out int n);
            return room[..n];
        }
        uint rest = (uint)value;
        int length = rest < 100 ? 2 : rest < 1000 ? 3 : rest < 10_000 ? 4 : rest < 100_000 ? 5 : rest < 1_000_000 ? 6 : rest < 10_000_000 ? 7 : rest < 100_000_000 ? 8 : 9;
        for (int i = length - 1; i >= 0; i--)
        {
            (rest, uint digit) = Math.DivRem(rest, 10u);
            room[i] = (byte)('0' + digit);
        }
        return room[..length];
    }

    /// <summary>An HTTP/1.1 response head as an HTTP/2 block: hop-by-hop and Connection-named fields removed, ours added.</summary>
    public static void ResponseFromHttp1(HpackEncoder enc, IBufferWriter<byte> block, Http1Head resp, RouteModel route, VirtualHostModel vhost, HttpChainRuntime chain, long start)
    {
        RouteConfigModel rc = chain.Model.RouteConfig;
        Status(enc, block, resp.StatusCode);
        for (int i = 0; i < resp.HeaderCount; i++)
        {
            KnownHeader known = resp.GetKnownHeader(i);
            if (KnownHeaders.IsHopByHop(known)) continue;
            ReadOnlySpan<byte> name = resp.GetHeaderName(i);
            if (name.Length == 6 && Ascii.EqualsIgnoreCase(name, "server"u8)) continue;
            if (resp.ConnectionNamesOthers && Http1HeadWriter.IsNamedByConnection(resp, name)) continue;
            if (IsRemovedOrOverwritten(name, route.ResponseHeaders, vhost.ResponseHeaders, rc.ResponseHeaders)) continue;
            enc.Encode(name, resp.GetHeaderValue(i), false, block);
        }
        Trailer(enc, block, chain, start);
        Adds(enc, block, route.ResponseHeaders);
        Adds(enc, block, vhost.ResponseHeaders);
        Adds(enc, block, rc.ResponseHeaders);
    }

    /// <summary>An HTTP/2 response forwarded to an HTTP/2 client: fields kept (never-indexed ones stay so), ours added.</summary>
    public static void ResponseFromHttp2(HpackEncoder enc, IBufferWriter<byte> block, Http2Head resp, RouteModel route, VirtualHostModel vhost, HttpChainRuntime chain, long start)
    {
        RouteConfigModel rc = chain.Model.RouteConfig;
        Status(enc, block, resp.StatusCode);
        for (int i = 0; i < resp.HeaderCount; i++)
        {
            ReadOnlySpan<byte> name = resp.GetHeaderName(i);
            // Names from HTTP/2 are lower case (RFC 9113 §8.2.1, Http2Head enforces it): exact compares. A name the
            // decoder got from the static table is "server" exactly when its index is.
            int staticName = resp.GetStaticNameIndex(i);
            if (staticName == ServerStaticIndex || (staticName == 0 && name.SequenceEqual("server"u8))) continue;
            if (IsRemovedOrOverwritten(name, route.ResponseHeaders, vhost.ResponseHeaders, rc.ResponseHeaders)) continue;
            enc.Encode(name, staticName, resp.GetHeaderValue(i), resp.IsNeverIndexed(i), block);
        }
        Trailer(enc, block, chain, start);
        Adds(enc, block, route.ResponseHeaders);
        Adds(enc, block, vhost.ResponseHeaders);
        Adds(enc, block, rc.ResponseHeaders);
    }

    private static void Trailer(HpackEncoder enc, IBufferWriter<byte> block, HttpChainRuntime chain, long start)
    {
        enc.Encode(HpackFieldName.Server, chain.ServerName, false, block);
        Number(enc, block, UpstreamServiceTime, (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    /// <summary>Trailers forwarded as they came (HTTP/2 to HTTP/2).</summary>
    public static void Trailers(HpackEncoder enc, IBufferWriter<byte> block, Http2Head trailers)
    {
        for (int i = 0; i < trailers.HeaderCount; i++)
            enc.Encode(trailers.GetHeaderName(i), trailers.GetStaticNameIndex(i), trailers.GetHeaderValue(i), trailers.IsNeverIndexed(i), block);
    }

    /// <summary>
    /// A request forwarded to an HTTP/2 upstream: pseudo-headers first (§8.3), path rewritten as the
    /// route says, the proxy's fields (x-forwarded-*, x-request-id, expected timeout) appended.
    /// </summary>
    public static void RequestToHttp2(HpackEncoder enc, IBufferWriter<byte> block, Http2Head req, RouteModel route, VirtualHostModel vhost,
        RouteActionModel action, HttpChainRuntime chain, byte[] clientAddress, RequestAdjustments adjust)
    {
        HttpConnectionManagerModel hcm = chain.Model;
        RouteConfigModel rc = hcm.RouteConfig;
        XfccAction xfcc = adjust.Xfcc(hcm);
        enc.Encode(HpackFieldName.Method, req.Method, false, block);
        if (!req.IsConnect || req.HasProtocol)
        {
            enc.Encode(HpackFieldName.Scheme, req.Scheme, false, block);
            RewrittenPath(enc, block, adjust.PathAndQuery(req.PathAndQuery), route, action);
        }
        if (action.HostRewriteLiteral is { } host) enc.Encode(HpackFieldName.Authority, Encoding.ASCII.GetBytes(host), false, block);
        else enc.Encode(HpackFieldName.Authority, req.Authority, false, block);
        if (req.HasProtocol) enc.Encode(HpackFieldName.Protocol, req.Protocol, false, block);
        bool appendXff = hcm.UseRemoteAddress;
        for (int i = 0; i < req.HeaderCount; i++)
        {
            ReadOnlySpan<byte> name = req.GetHeaderName(i);
            if (i == req.HostIndex) continue;
            if (name.SequenceEqual("x-forwarded-proto"u8)) continue;
            if (appendXff && i == req.ForwardedForIndex) continue;
            if (IsRemovedOrOverwritten(name, route.RequestHeaders, vhost.RequestHeaders, rc.RequestHeaders)) continue;
            if (XfccFields.DropsReceived(xfcc) && XfccFields.IsXfcc(name)) continue;
            enc.Encode(name, req.GetStaticNameIndex(i), req.GetHeaderValue(i), req.IsNeverIndexed(i), block);
        }
        ReadOnlySpan<byte> priorXff = req.ForwardedForIndex >= 0 ? req.GetHeaderValue(req.ForwardedForIndex) : default;
        if (xfcc is XfccAction.Append or XfccAction.Set) XfccFields.Encode(enc, block, req, xfcc, adjust.XfccElement(hcm));
        ProxyRequestFields(enc, block, priorXff, req.RequestIdIndex >= 0, adjust.ExpectedTimeout(action), hcm, clientAddress, appendXff);
        Adds(enc, block, route.RequestHeaders);
        Adds(enc, block, vhost.RequestHeaders);
        Adds(enc, block, rc.RequestHeaders);
    }

    /// <summary>
    /// An HTTP/1.1 request as an HTTP/2 block: Host becomes :authority, hop-by-hop fields (and those the
    /// Connection field names) are dropped, `te` kept only as "trailers" (RFC 9113 §8.2.2).
    /// </summary>
    public static void RequestFromHttp1(HpackEncoder enc, IBufferWriter<byte> block, Http1Head req, RouteModel route, VirtualHostModel vhost,
        RouteActionModel action, HttpChainRuntime chain, byte[] clientAddress, RequestAdjustments adjust)
    {
        HttpConnectionManagerModel hcm = chain.Model;
        RouteConfigModel rc = hcm.RouteConfig;
        XfccAction xfcc = adjust.Xfcc(hcm);
        enc.Encode(HpackFieldName.Method, req.Method, false, block);
        enc.Encode(HpackFieldName.Scheme, "http"u8, false, block);
        RewrittenPath(enc, block, adjust.PathAndQuery(req.PathAndQuery), route, action);
        if (action.HostRewriteLiteral is { } host) enc.Encode(HpackFieldName.Authority, Encoding.ASCII.GetBytes(host), false, block);
        else enc.Encode(HpackFieldName.Authority, req.Authority, false, block);
        bool appendXff = hcm.UseRemoteAddress;
        for (int i = 0; i < req.HeaderCount; i++)
        {
            KnownHeader known = req.GetKnownHeader(i);
            if (known is KnownHeader.Host or KnownHeader.XForwardedProto || KnownHeaders.IsHopByHop(known) || known == KnownHeader.TE) continue;
            if (known == KnownHeader.Expect && req.ExpectContinue) continue;
            if (appendXff && i == req.ForwardedForIndex) continue;
            ReadOnlySpan<byte> name = req.GetHeaderName(i);
            if (req.ConnectionNamesOthers && Http1HeadWriter.IsNamedByConnection(req, name)) continue;
            if (IsRemovedOrOverwritten(name, route.RequestHeaders, vhost.RequestHeaders, rc.RequestHeaders)) continue;
            if (XfccFields.DropsReceived(xfcc) && XfccFields.IsXfcc(name)) continue;
            enc.Encode(name, req.GetHeaderValue(i), false, block);
        }
        if (req.TeTrailers) enc.Encode(Te, "trailers"u8, false, block);
        ReadOnlySpan<byte> priorXff = req.ForwardedForIndex >= 0 ? req.GetHeaderValue(req.ForwardedForIndex) : default;
        if (xfcc is XfccAction.Append or XfccAction.Set) XfccFields.Encode(enc, block, req, xfcc, adjust.XfccElement(hcm));
        ProxyRequestFields(enc, block, priorXff, req.RequestIdIndex >= 0, adjust.ExpectedTimeout(action), hcm, clientAddress, appendXff);
        Adds(enc, block, route.RequestHeaders);
        Adds(enc, block, vhost.RequestHeaders);
        Adds(enc, block, rc.RequestHeaders);
    }

    /// <summary>
    /// The fields the proxy adds to every request it forwards over HTTP/2: x-forwarded-proto, x-forwarded-for
    /// (appended to the client's when use_remote_address), x-request-id when absent, the expected timeout.
    /// </summary>
    private static void ProxyRequestFields(HpackEncoder enc, IBufferWriter<byte> block, ReadOnlySpan<byte> priorXff, bool hasRequestId,
        TimeSpan expectedTimeout, HttpConnectionManagerModel hcm, byte[] clientAddress, bool appendXff)
    {
        enc.Encode(ForwardedProto, "http"u8, false, block);
        if (appendXff)
        {
            if (priorXff.IsEmpty) enc.Encode(ForwardedFor, clientAddress, false, block);
            else
            {
                int length = priorXff.Length + 1 + clientAddress.Length;
                byte[] joined = ArrayPool<byte>.Shared.Rent(length);
                priorXff.CopyTo(joined);
                joined[priorXff.Length] = (byte)',';
                clientAddress.CopyTo(joined.AsSpan(priorXff.Length + 1));
                enc.Encode(ForwardedFor, joined.AsSpan(0, length), false, block);
                ArrayPool<byte>.Shared.Return(joined);
            }
        }
        if (!hasRequestId && hcm.GenerateRequestId)
        {
            Span<byte> id = stackalloc byte[36];
            RequestIds.Write(id);
            enc.Encode(RequestId, id, false, block);
        }
        if (expectedTimeout > TimeSpan.Zero) Number(enc, block, ExpectedTimeout, (long)expectedTimeout.TotalMilliseconds);
    }

    private static void RewrittenPath(HpackEncoder enc, IBufferWriter<byte> block, ReadOnlySpan<byte> path, RouteModel route, RouteActionModel action)
    {
        string? rewrite = action.PrefixRewrite;
        if (rewrite is null || route.Match.Kind is not (PathMatchKind.Prefix or PathMatchKind.PathSeparatedPrefix or PathMatchKind.Path))
        {
            enc.Encode(HpackFieldName.Path, path, false, block);
            return;
        }
        int matched = Math.Min(route.Match.Value.Length, path.Length);
        byte[] joined = ArrayPool<byte>.Shared.Rent(rewrite.Length + path.Length - matched);
        int n = Encoding.ASCII.GetBytes(rewrite, joined);
        path[matched..].CopyTo(joined.AsSpan(n));
        n += path.Length - matched;
        enc.Encode(HpackFieldName.Path, joined.AsSpan(0, n), false, block);
        ArrayPool<byte>.Shared.Return(joined);
    }

    private static bool IsRemovedOrOverwritten(ReadOnlySpan<byte> name, HeaderMutationModel a, HeaderMutationModel b, HeaderMutationModel c)
        => HeaderMutations.IsRemovedOrOverwritten(name, a, b, c);

    private static void Adds(HpackEncoder enc, IBufferWriter<byte> block, HeaderMutationModel m)
    {
        if (m.Add.IsDefaultOrEmpty) return;
        // ADD_IF_ABSENT against a forwarded HTTP/2 block would need a scan of what was written; those are added too (documented).
        foreach (HeaderValueOptionModel add in m.Add) enc.Encode(add.NameBytes, add.ValueBytes, false, block);
    }
}
