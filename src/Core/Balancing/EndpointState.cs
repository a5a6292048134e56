using System.Net;
using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Balancing;

/// <summary>
/// One upstream address and its mutable runtime counters (YARP naming: *State is the mutable
/// holder). Instances are reused across DNS refreshes while the address stays, so in-flight request
/// counts and ejections survive an endpoint-set swap. All mutation is Interlocked/volatile.
/// </summary>
public sealed class EndpointState
{
    /// <summary>Consecutive connect failures that eject the endpoint (Envoy outlier consecutive_5xx default).</summary>
    public const int EjectAfterConsecutiveFailures = 5;

    /// <summary>Deliberately short so a restarted pod gets traffic back quickly.</summary>
    public static readonly TimeSpan EjectionTime = TimeSpan.FromSeconds(5);

    private int _activeRequests;
    private int _consecutiveConnectFailures;
    private long _ejectedUntil = long.MinValue;

    public EndpointState(IPEndPoint address, int weight = 1, int priority = 0, LocalityEndpointsModel? locality = null,
        string? hostName = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        Address = address;
        Weight = Math.Max(weight, 1);
        Priority = priority;
        Locality = locality;
        HostName = hostName ?? address.Address.ToString();
    }

    public IPEndPoint Address { get; }
    /// <summary>Envoy load_balancing_weight, at least 1.</summary>
    public int Weight { get; }
    public int Priority { get; }
    /// <summary>The locality this endpoint came from; null for ORIGINAL_DST endpoints.</summary>
    public LocalityEndpointsModel? Locality { get; }
    /// <summary>The configured host name (or the IP literal), for logs and auto Host rewriting.</summary>
    public string HostName { get; }
    /// <summary>The config endpoint this address was resolved from, so DNS refreshes can keep this state.</summary>
    public EndpointModel? Source { get; init; }

    public int ActiveRequests => Volatile.Read(ref _activeRequests);
    public int ConsecutiveConnectFailures => Volatile.Read(ref _consecutiveConnectFailures);

    /// <summary>Call when a request is sent to this endpoint; pair with <see cref="EndRequest"/>.</summary>
    public void BeginRequest() => Interlocked.Increment(ref _activeRequests);

    public void EndRequest() => Interlocked.Decrement(ref _activeRequests);

    /// <summary>True unless ejected at <paramref name="timestamp"/> (a <see cref="TimeProvider.GetTimestamp"/> value).</summary>
    public bool IsAvailable(long timestamp) => Volatile.Read(ref _ejectedUntil) <= timestamp;

    public void RecordConnectSuccess()
    {
        if (Volatile.Read(ref _consecutiveConnectFailures) != 0)
        {
            Volatile.Write(ref _consecutiveConnectFailures, 0);
        }
    }

    /// <summary>Counts a failure; on the threshold ejects until <paramref name="ejectUntil"/>. Returns true if this call ejected.</summary>
    public bool RecordConnectFailure(long ejectUntil)
    {
        if (Interlocked.Increment(ref _consecutiveConnectFailures) < EjectAfterConsecutiveFailures)
        {
            return false;
        }

        // Reset so the endpoint gets a fresh budget of attempts once the ejection expires.
        Volatile.Write(ref _consecutiveConnectFailures, 0);
        Volatile.Write(ref _ejectedUntil, ejectUntil);
        return true;
    }

    public override string ToString() => Address.ToString();
}
