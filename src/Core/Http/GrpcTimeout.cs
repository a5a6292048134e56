using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Http;

/// <summary>
/// The gRPC request deadline (gRPC over HTTP/2, "Requests": <c>grpc-timeout = TimeoutValue TimeoutUnit</c>, TimeoutValue
/// at most 8 ASCII digits, TimeoutUnit one of H M S m u n) and how a route turns it into the deadline for the upstream's
/// answer, as Envoy's router (max_grpc_timeout) and connection manager (max_stream_duration.grpc_timeout_header_max) do.
/// </summary>
public static class GrpcTimeout
{
    private const int MaxDigits = 8;

    /// <summary>
    /// Parses a grpc-timeout value without allocating. Sub-millisecond values round up to the next millisecond, as Envoy
    /// does. False for anything malformed (empty, a sign, more than 8 digits, another unit): the header is then ignored.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> value, out TimeSpan timeout)
    {
        timeout = TimeSpan.Zero;
        if (value.Length < 2 || value.Length > MaxDigits + 1)
        {
            return false;
        }
        long n = 0;
        foreach (byte b in value[..^1])
        {
            if (b < (byte)'0' || b > (byte)'9') return false;
            n = (n * 10) + (b - '0');
        }
        long ticks = value[^1] switch
        {
            (byte)'H' => n * TimeSpan.TicksPerHour,
            (byte)'M' => n * TimeSpan.TicksPerMinute,
            (byte)'S' => n * TimeSpan.TicksPerSecond,
            (byte)'m' => n * TimeSpan.TicksPerMillisecond,
            (byte)'u' => CeilingMilliseconds(n, 1000),
            (byte)'n' => CeilingMilliseconds(n, 1_000_000),
            _ => -1,
        };
        if (ticks < 0) return false;
        timeout = TimeSpan.FromTicks(ticks);
        return true;
    }

    private static long CeilingMilliseconds(long value, long perMillisecond) =>
        ((value + perMillisecond - 1) / perMillisecond) * TimeSpan.TicksPerMillisecond;

    /// <summary>
    /// Envoy's gRPC test (<c>Grpc::Common::hasGrpcContentType</c>): "application/grpc", optionally followed by "+format"
    /// or ";parameters".
    /// </summary>
    public static bool IsGrpcContentType(ReadOnlySpan<byte> contentType)
    {
        ReadOnlySpan<byte> grpc = "application/grpc"u8;
        return contentType.StartsWith(grpc) && (contentType.Length == grpc.Length || contentType[grpc.Length] is (byte)'+' or (byte)';');
    }

    /// <summary>
    /// The deadline for the upstream's answer (zero = none). <paramref name="header"/> is the request's grpc-timeout
    /// value when <paramref name="hasHeader"/>. <paramref name="streamDuration"/> is set when the deadline is the
    /// stream duration Envoy derives from the header (its expiry is answered with DEADLINE_EXCEEDED), not the route timeout.
    /// </summary>
    public static TimeSpan Deadline(RouteActionModel action, bool isGrpc, bool hasHeader, ReadOnlySpan<byte> header, out bool streamDuration)
    {
        streamDuration = false;
        GrpcTimeoutRule rule = action.GrpcTimeout;
        TimeSpan requested = TimeSpan.Zero;
        bool parsed = hasHeader && TryParse(header, out requested);
        if (rule.Kind == GrpcTimeoutKind.RouteTimeout && isGrpc)
        {
            // Router (max_grpc_timeout): the header replaces the route timeout, an absent header meaning "none"; the
            // offset applies only when it leaves time; a non-zero maximum caps it (and gives "none" a bound).
            TimeSpan t = parsed ? requested : TimeSpan.Zero;
            if (rule.Offset > TimeSpan.Zero && rule.Offset < t) t -= rule.Offset;
            if (rule.Max > TimeSpan.Zero && (t == TimeSpan.Zero || t > rule.Max)) t = rule.Max;
            return t;
        }
        if (rule.Kind == GrpcTimeoutKind.StreamDuration && parsed)
        {
            // Connection manager (grpc_timeout_header_max): the header, capped by a non-zero maximum, less the offset
            // (down to zero); it bounds the stream alongside the route timeout.
            TimeSpan d = requested;
            if (rule.Max > TimeSpan.Zero && d > rule.Max) d = rule.Max;
            if (d > TimeSpan.Zero && rule.Offset > TimeSpan.Zero) d = rule.Offset < d ? d - rule.Offset : TimeSpan.Zero;
            // An expired budget still fires (Envoy arms a zero timer); our zero means "no deadline", so use the smallest one.
            if (d <= TimeSpan.Zero) d = TimeSpan.FromMilliseconds(1);
            if (action.Timeout > TimeSpan.Zero && action.Timeout <= d) return action.Timeout;
            streamDuration = true;
            return d;
        }
        return action.Timeout;
    }
}
