using System.IO.Pipelines;

namespace Sidecar.Core.Proxy;

/// <summary>Which limit ended a wait for the upstream's response head.</summary>
internal enum DeadlineExpiry : byte
{
    None,
    /// <summary>The route timeout (or the max_grpc_timeout value that replaced it): 504, not retried.</summary>
    RouteTimeout,
    /// <summary>The stream duration taken from grpc-timeout (max_stream_duration): DEADLINE_EXCEEDED for gRPC.</summary>
    StreamDuration,
    /// <summary>The retry policy's per_try_timeout: this try failed, another may follow.</summary>
    PerTryTimeout,
    /// <summary>No request-body bytes for stream_idle_timeout while the body was still expected: 408.</summary>
    RequestStalled,
}

/// <summary>
/// The clock of one request's wait for its upstream's response head, run the way Envoy's router runs it:
/// <list type="bullet">
/// <item>the route timeout (or max_grpc_timeout's replacement) starts when the downstream request is complete (end of
/// stream: the whole body received; at once for a bodyless request) and keeps running across retries;</item>
/// <item>each try's per_try_timeout starts when that try has its connection or when the request is complete, whichever
/// is later (Envoy's UpstreamRequest defers it to request completion);</item>
/// <item>a grpc-timeout stream duration runs from the request head, as the connection manager's stream timer does;</item>
/// <item>while the body is still arriving neither timeout runs; stream_idle_timeout bounds a client that stops sending.</item>
/// </list>
/// All of it is fields in Environment.TickCount64 milliseconds that the heartbeat reads: nothing is allocated or armed per
/// request. The request flow and the body pump write them (the pump marks progress and completion), the heartbeat claims
/// an expiry. One instance per HTTP/1.1 connection or pooled HTTP/2 stream.
/// </summary>
internal sealed class ResponseDeadline
{
    private const long Never = long.MaxValue;

    private long _requestStart;
    private long _streamDurationMs;
    private long _routeMs;
    private long _stallMs;
    private long _requestComplete = Never;
    private long _lastBodyProgress;
    private long _tryStart;
    private long _tryMs;

    // Odd while a wait is armed. The waiter ends its wait and the heartbeat claims an expiry by the same compare-and-swap
    // to the next even value, so exactly one of them wins, and a tick that read an earlier wait's number cannot expire a
    // later wait (the number only grows).
    private long _wait;
    private int _expiry;
    // The number this flow armed (0: no wait armed); only the waiting flow reads or writes it.
    private long _armed;

    /// <summary>The limit that ended the last wait by the clock (<see cref="DeadlineExpiry.None"/> if none did).</summary>
    public DeadlineExpiry Expired { get; private set; }

    /// <summary>Starts a request's clock once it is routed; <paramref name="complete"/> when no body follows the head.</summary>
    public void BeginRequest(TimeSpan routeTimeout, TimeSpan streamDuration, TimeSpan stallTimeout, bool complete)
    {
        long now = Environment.TickCount64;
        _requestStart = now;
        _routeMs = Milliseconds(routeTimeout);
        _streamDurationMs = Milliseconds(streamDuration);
        _stallMs = Milliseconds(stallTimeout);
        _tryMs = 0;
        _tryStart = now;
        Expired = DeadlineExpiry.None;
        Volatile.Write(ref _lastBodyProgress, now);
        Volatile.Write(ref _requestComplete, complete ? now : Never);
    }

    /// <summary>A try has its upstream connection: its per_try_timeout (zero: none) counts from now or the request's end.</summary>
    public void BeginTry(TimeSpan perTryTimeout)
    {
        _tryStart = Environment.TickCount64;
        _tryMs = Milliseconds(perTryTimeout);
    }

    /// <summary>Request-body bytes arrived (the stall limit counts from the last of them).</summary>
    public void BodyProgress() => Volatile.Write(ref _lastBodyProgress, Environment.TickCount64);

    /// <summary>The downstream request is complete: the route timeout and a pending per-try timeout start now.</summary>
    public void RequestComplete()
    {
        if (Volatile.Read(ref _requestComplete) == Never) Volatile.Write(ref _requestComplete, Environment.TickCount64);
    }

    public bool IsRequestComplete => Volatile.Read(ref _requestComplete) != Never;

    // The upstream input the head is read from while a wait is armed (null: an HTTP/2 upstream stream, cancelled by the owner).
    private volatile PipeReader? _waitingReader;

    /// <summary>
    /// Arms the clock for a wait on the response head read from <paramref name="upstreamInput"/> (null when the owner
    /// wakes the wait itself); one per try, interim 1xx heads do not restart it.
    /// </summary>
    public void StartWait(PipeReader? upstreamInput)
    {
        _waitingReader = upstreamInput;
        Volatile.Write(ref _expiry, (int)DeadlineExpiry.None);
        _armed = (Volatile.Read(ref _wait) | 1) + 2;
        Volatile.Write(ref _wait, _armed);
    }

    /// <summary>Ends the wait; returns the limit that expired first if the heartbeat claimed it, else None.</summary>
    public DeadlineExpiry EndWait()
    {
        long armed = _armed;
        if (armed == 0) return DeadlineExpiry.None;
        _armed = 0;
        _waitingReader = null;
        if (Interlocked.CompareExchange(ref _wait, armed + 1, armed) == armed) return DeadlineExpiry.None;
        Expired = (DeadlineExpiry)Volatile.Read(ref _expiry);
        return Expired;
    }

    /// <summary>The heartbeat claimed the armed wait (its waiter then sees a cancelled read or stream).</summary>
    public bool WaitExpired => _armed != 0 && Volatile.Read(ref _wait) != _armed;

    /// <summary>
    /// Heartbeat: true when this tick claimed the armed wait's expiry. The upstream read is cancelled here; an owner
    /// waiting on an HTTP/2 upstream stream cancels that stream. The waiter learns why from <see cref="EndWait"/>.
    /// </summary>
    public bool TryExpire(long nowMs)
    {
        long armed = Volatile.Read(ref _wait);
        if ((armed & 1) == 0) return false;
        DeadlineExpiry due = Due(nowMs);
        if (due == DeadlineExpiry.None) return false;
        Volatile.Write(ref _expiry, (int)due);
        if (Interlocked.CompareExchange(ref _wait, armed + 1, armed) != armed) return false;
        _waitingReader?.CancelPendingRead();
        return true;
    }

    /// <summary>The limit that has expired at <paramref name="nowMs"/>; the ones that end the request outrank a try's.</summary>
    public DeadlineExpiry Due(long nowMs)
    {
        if (_streamDurationMs > 0 && nowMs >= _requestStart + _streamDurationMs) return DeadlineExpiry.StreamDuration;
        long end = Volatile.Read(ref _requestComplete);
        if (end == Never)
        {
            return _stallMs > 0 && nowMs >= Volatile.Read(ref _lastBodyProgress) + _stallMs ? DeadlineExpiry.RequestStalled : DeadlineExpiry.None;
        }
        if (_routeMs > 0 && nowMs >= end + _routeMs) return DeadlineExpiry.RouteTimeout;
        if (_tryMs > 0 && nowMs >= Math.Max(end, _tryStart) + _tryMs) return DeadlineExpiry.PerTryTimeout;
        return DeadlineExpiry.None;
    }

    /// <summary>Time left before the first limit of a complete request expires (zero: no limit; at least 1 ms otherwise).</summary>
    public TimeSpan Remaining(long nowMs)
    {
        long first = Never;
        if (_streamDurationMs > 0) first = _requestStart + _streamDurationMs;
        long end = Volatile.Read(ref _requestComplete);
        if (end != Never)
        {
            if (_routeMs > 0) first = Math.Min(first, end + _routeMs);
            if (_tryMs > 0) first = Math.Min(first, Math.Max(end, _tryStart) + _tryMs);
        }
        if (first == Never) return TimeSpan.Zero;
        return TimeSpan.FromMilliseconds(Math.Max(1, first - nowMs));
    }

    /// <summary>Records the limit found expired by a wait that had no heartbeat claim of its own (HTTP/2 upstream's head timer).</summary>
    public DeadlineExpiry NoteExpired(long nowMs)
    {
        DeadlineExpiry due = Due(nowMs);
        Expired = due == DeadlineExpiry.None ? DeadlineExpiry.RouteTimeout : due;
        return Expired;
    }

    private static long Milliseconds(TimeSpan t) => t > TimeSpan.Zero ? Math.Max(1, (long)t.TotalMilliseconds) : 0;
}

/// <summary>What an expiry answers with and which cluster counter it goes to.</summary>
internal static class DeadlineExpiryMapping
{
    /// <summary>408 for a client that stopped sending its body (Envoy's stream idle timeout, SI), else 504 (UT).</summary>
    public static ProxyError ToProxyError(this DeadlineExpiry expired) =>
        expired == DeadlineExpiry.RequestStalled ? ProxyError.StreamIdleTimeout : ProxyError.UpstreamRequestTimeout;

    /// <summary>
    /// A try's own per_try_timeout counts in <c>upstream_rq_per_try_timeout</c> (retried or not), any other expiry in
    /// <c>upstream_rq_timeout</c>, as Envoy's router counts them.
    /// </summary>
    public static void CountTimeout(this Telemetry.ClusterStats stats, DeadlineExpiry expired) =>
        (expired == DeadlineExpiry.PerTryTimeout ? stats.UpstreamRqPerTryTimeout : stats.UpstreamRqTimeout).Increment();
}
