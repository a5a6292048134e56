namespace Sidecar.Core.Proxy;

/// <summary>
/// Every way a proxied exchange can fail, with who is to blame. Mapped to a status code, an Envoy
/// response flag and a body in exactly one place (<see cref="LocalReply"/>), as linkerd's respond.rs does.
/// </summary>
public enum ProxyError : byte
{
    None,
    /// <summary>Malformed or disallowed request (400/431/413/501/505 from the codec).</summary>
    BadRequest,
    /// <summary>NR: no route or virtual host matched.</summary>
    NoRoute,
    /// <summary>NC: the route names a cluster that does not exist.</summary>
    NoCluster,
    /// <summary>UH: the cluster has no healthy endpoint.</summary>
    NoHealthyUpstream,
    /// <summary>UF: connecting to the upstream failed or timed out.</summary>
    UpstreamConnectFailure,
    /// <summary>UO: a circuit breaker (connections, pending or requests) overflowed.</summary>
    UpstreamOverflow,
    /// <summary>UC: the upstream closed the connection before a complete response head.</summary>
    UpstreamConnectionTermination,
    /// <summary>UPE: the upstream sent a malformed response.</summary>
    UpstreamProtocolError,
    /// <summary>UT: the route timeout expired before the response head.</summary>
    UpstreamRequestTimeout,
    /// <summary>DC: the downstream went away.</summary>
    DownstreamConnectionTermination,
    /// <summary>The request head did not arrive within request_headers_timeout (408).</summary>
    RequestHeadersTimeout,
    /// <summary>An Upgrade or CONNECT the route does not enable (403, Envoy's "upgrade_failed").</summary>
    UpgradeFailed,
    /// <summary>The request body exceeded the configured limit (413).</summary>
    RequestBodyTooLarge,
    /// <summary>URX: retries were exhausted.</summary>
    UpstreamRetryLimitExceeded,
    /// <summary>SI: the client stopped sending its request body for stream_idle_timeout before a response head (408).</summary>
    StreamIdleTimeout,
}

public static class ResponseFlags
{
    /// <summary>The Envoy access-log short name of a failure, as ASCII bytes for the response header.</summary>
    public static ReadOnlySpan<byte> ShortNameUtf8(this ProxyError e) => e switch
    {
        ProxyError.NoRoute => "NR"u8,
        ProxyError.NoCluster => "NC"u8,
        ProxyError.NoHealthyUpstream => "UH"u8,
        ProxyError.UpstreamConnectFailure => "UF"u8,
        ProxyError.UpstreamOverflow => "UO"u8,
        ProxyError.UpstreamConnectionTermination => "UC"u8,
        ProxyError.UpstreamProtocolError => "UPE"u8,
        ProxyError.UpstreamRequestTimeout => "UT"u8,
        ProxyError.DownstreamConnectionTermination => "DC"u8,
        ProxyError.UpstreamRetryLimitExceeded => "URX"u8,
        ProxyError.StreamIdleTimeout => "SI"u8,
        ProxyError.RequestHeadersTimeout => "DPE"u8,
        ProxyError.BadRequest => "DPE"u8,
        ProxyError.RequestBodyTooLarge => "DPE"u8,
        ProxyError.UpgradeFailed => "UPE"u8,
        _ => "-"u8,
    };
}
