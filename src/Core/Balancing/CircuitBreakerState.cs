using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Balancing;

/// <summary>
/// Envoy circuit-breaker counters for a cluster (DEFAULT priority). Acquire increments first and
/// backs out on overflow, which equals Envoy's "current &lt; max" check without a lock. A false
/// return is Envoy's overflow: the caller answers 503 with response flag UO.
/// </summary>
public sealed class CircuitBreakerState
{
    private readonly CircuitBreakerModel _limits;
    private int _requests;
    private int _pendingRequests;
    private int _connections;
    private int _retries;
    private long _overflows;

    public CircuitBreakerState(CircuitBreakerModel limits) => _limits = limits ?? CircuitBreakerModel.Default;

    public int ActiveRequests => Volatile.Read(ref _requests);
    public int PendingRequests => Volatile.Read(ref _pendingRequests);
    public int ActiveConnections => Volatile.Read(ref _connections);
    public int ActiveRetries => Volatile.Read(ref _retries);
    /// <summary>Total refused acquisitions (all kinds), for stats.</summary>
    public long Overflows => Interlocked.Read(ref _overflows);

    public bool TryAcquireRequest() => TryAcquire(ref _requests, _limits.MaxRequests);
    public void ReleaseRequest() => Interlocked.Decrement(ref _requests);
    public bool TryAcquirePendingRequest() => TryAcquire(ref _pendingRequests, _limits.MaxPendingRequests);
    public void ReleasePendingRequest() => Interlocked.Decrement(ref _pendingRequests);
    public bool TryAcquireConnection() => TryAcquire(ref _connections, _limits.MaxConnections);
    public void ReleaseConnection() => Interlocked.Decrement(ref _connections);
    public bool TryAcquireRetry() => TryAcquire(ref _retries, _limits.MaxRetries);
    public void ReleaseRetry() => Interlocked.Decrement(ref _retries);

    private bool TryAcquire(ref int counter, int max)
    {
        if (Interlocked.Increment(ref counter) <= max)
        {
            return true;
        }

        Interlocked.Decrement(ref counter);
        Interlocked.Increment(ref _overflows);
        return false;
    }
}
