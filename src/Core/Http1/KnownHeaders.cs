namespace Sidecar.Core.Http1;

/// <summary>Case-insensitive classification of the header names the proxy acts on, switched on length first.</summary>
internal static class KnownHeaders
{
    public static KnownHeader Classify(ReadOnlySpan<byte> n) => n.Length switch
    {
        2 when Is(n, "te"u8) => KnownHeader.TE,
        4 when Is(n, "host"u8) => KnownHeader.Host,
        6 when Is(n, "expect"u8) => KnownHeader.Expect,
        7 when Is(n, "upgrade"u8) => KnownHeader.Upgrade,
        7 when Is(n, "trailer"u8) => KnownHeader.Trailer,
        10 when Is(n, "connection"u8) => KnownHeader.Connection,
        10 when Is(n, "keep-alive"u8) => KnownHeader.KeepAlive,
        12 when Is(n, "x-request-id"u8) => KnownHeader.XRequestId,
        14 when Is(n, "content-length"u8) => KnownHeader.ContentLength,
        15 when Is(n, "x-forwarded-for"u8) => KnownHeader.XForwardedFor,
        16 when Is(n, "proxy-connection"u8) => KnownHeader.ProxyConnection,
        17 when Is(n, "transfer-encoding"u8) => KnownHeader.TransferEncoding,
        17 when Is(n, "x-forwarded-proto"u8) => KnownHeader.XForwardedProto,
        16 when Is(n, "x-envoy-internal"u8) => KnownHeader.XEnvoyInternal,
        _ => KnownHeader.Other,
    };

    private static bool Is(ReadOnlySpan<byte> n, ReadOnlySpan<byte> lower) => System.Text.Ascii.EqualsIgnoreCase(n, lower);

    /// <summary>RFC 9110 §7.6.1 hop-by-hop fields, never forwarded as received.</summary>
    public static bool IsHopByHop(KnownHeader k) => k is KnownHeader.Connection or KnownHeader.KeepAlive
        or KnownHeader.ProxyConnection or KnownHeader.TE or KnownHeader.Trailer or KnownHeader.TransferEncoding
        or KnownHeader.Upgrade;
}
