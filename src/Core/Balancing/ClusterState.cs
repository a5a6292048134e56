using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Balancing;

/// <summary>
/// Runtime state of one upstream cluster (YARP naming: *State is the mutable holder of an immutable
/// model): the current <see cref="EndpointSet"/> (swapped by one volatile reference write), the
/// circuit-breaker counters and, for DNS clusters, the refresh timer. <see cref="Pick"/> is the hot
/// path: lock-free and allocation-free.
/// </summary>
public sealed class ClusterState : IDisposable
{
    /// <summary>Above this many cached ORIGINAL_DST endpoints, idle ones are dropped (Envoy cleans up on an interval).</summary>
    private const int MaxOriginalDestinations = 4096;

    private readonly IRandomSource _random;
    private readonly TimeProvider _time;
    private readonly ClusterDnsResolver? _dns;
    private readonly ConcurrentDictionary<IPEndPoint, EndpointState>? _originalDestinations;
    private readonly CancellationTokenSource _stopping = new();
    private EndpointSet _endpoints;
    private ITimer? _timer;
    private int _refreshing;
    private int _originalDestinationCount;

    public ClusterState(ClusterModel model, IDnsResolver? dnsResolver = null, TimeProvider? timeProvider = null,
        IRandomSource? random = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        _random = random ?? SharedRandomSource.Instance;
        _time = timeProvider ?? TimeProvider.System;
        CircuitBreakers = new CircuitBreakerState(model.CircuitBreakers);
        switch (model.Type)
        {
            case DiscoveryType.StrictDns:
            case DiscoveryType.LogicalDns:
                _dns = new ClusterDnsResolver(model, dnsResolver ?? SystemDnsResolver.Instance);
                // IP literals are usable before the first lookup completes.
                _endpoints = new EndpointSet(ClusterDnsResolver.FromLiterals(model.Localities), _random);
                break;
            case DiscoveryType.OriginalDst:
                _originalDestinations = new ConcurrentDictionary<IPEndPoint, EndpointState>();
                _endpoints = EndpointSet.Empty;
                break;
            default:
                _endpoints = new EndpointSet(ClusterDnsResolver.FromLiterals(model.Localities), _random);
                break;
        }
    }

    public ClusterModel Model { get; }
    public string Name => Model.Name;
    public CircuitBreakerState CircuitBreakers { get; }
    public EndpointSet Endpoints => Volatile.Read(ref _endpoints);
    /// <summary>True for STRICT_DNS and LOGICAL_DNS clusters.</summary>
    public bool UsesDns => _dns is not null;

    /// <summary>
    /// Picks an endpoint with the cluster's lb_policy; null when the cluster has no endpoints
    /// (always for ORIGINAL_DST: use <see cref="ForOriginalDestination"/>). Envoy answers 503 UH then.
    /// </summary>
    public EndpointState? Pick() =>
        Volatile.Read(ref _endpoints).Pick(Model.LbPolicy, Model.LeastRequestChoiceCount, _random, _time.GetTimestamp());

    public bool TryAcquireRequest() => CircuitBreakers.TryAcquireRequest();
    public void ReleaseRequest() => CircuitBreakers.ReleaseRequest();
    public bool TryAcquirePendingRequest() => CircuitBreakers.TryAcquirePendingRequest();
    public void ReleasePendingRequest() => CircuitBreakers.ReleasePendingRequest();
    public bool TryAcquireConnection() => CircuitBreakers.TryAcquireConnection();
    public void ReleaseConnection() => CircuitBreakers.ReleaseConnection();
    public bool TryAcquireRetry() => CircuitBreakers.TryAcquireRetry();
    public void ReleaseRetry() => CircuitBreakers.ReleaseRetry();

    /// <summary>Passive health: counts a failed connect; the endpoint is ejected briefly after repeated failures.</summary>
    public void ReportConnectFailure(EndpointState endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        long ejectUntil = _time.GetTimestamp() + (long)(EndpointState.EjectionTime.TotalSeconds * _time.TimestampFrequency);
        endpoint.RecordConnectFailure(ejectUntil);
    }

    public static void ReportConnectSuccess(EndpointState endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        endpoint.RecordConnectSuccess();
    }

    /// <summary>
    /// ORIGINAL_DST: the endpoint for the connection's original destination, shared across
    /// connections so request counters and ejection work as for other clusters. No allocation once
    /// a destination has been seen.
    /// </summary>
    public EndpointState ForOriginalDestination(IPEndPoint destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ConcurrentDictionary<IPEndPoint, EndpointState> cache = _originalDestinations
            ?? throw new InvalidOperationException($"cluster '{Name}' is not ORIGINAL_DST");
        if (cache.TryGetValue(destination, out EndpointState? existing))
        {
            return existing;
        }

        if (Interlocked.Increment(ref _originalDestinationCount) > MaxOriginalDestinations)
        {
            EvictIdleOriginalDestinations(cache);
        }

        var created = new EndpointState(destination);
        if (!cache.TryAdd(destination, created))
        {
            Interlocked.Decrement(ref _originalDestinationCount);
            return cache[destination];
        }

        return created;
    }

    /// <summary>Replaces the endpoints from EDS-style localities (IP literals only), keeping the states of unchanged addresses.</summary>
    public void UpdateEndpoints(ImmutableArray<LocalityEndpointsModel> localities)
    {
        List<EndpointState> fresh = ClusterDnsResolver.FromLiterals(localities);
        var previous = new Dictionary<IPEndPoint, EndpointState>();
        foreach (EndpointState state in Endpoints.Endpoints)
        {
            previous.TryAdd(state.Address, state);
        }

        for (int i = 0; i < fresh.Count; i++)
        {
            if (previous.TryGetValue(fresh[i].Address, out EndpointState? old)
                && old.Weight == fresh[i].Weight && old.Priority == fresh[i].Priority)
            {
                fresh[i] = old;
            }
        }

        Publish(fresh);
    }

    /// <summary>Resolves all host names once and publishes the result. Safe to call concurrently with <see cref="Pick"/>.</summary>
    public async Task RefreshDnsAsync(CancellationToken cancellationToken = default)
    {
        if (_dns is null)
        {
            return;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        List<EndpointState> resolved = await _dns.ResolveAsync(Endpoints.Endpoints, linked.Token).ConfigureAwait(false);
        Publish(resolved);
    }

    /// <summary>Starts refreshing every dns_refresh_rate on the injected <see cref="TimeProvider"/>. Idempotent.</summary>
    public void StartDnsRefresh()
    {
        if (_dns is null || _timer is not null)
        {
            return;
        }

        TimeSpan rate = Model.DnsRefreshRate > TimeSpan.Zero ? Model.DnsRefreshRate : TimeSpan.FromSeconds(5);
        _timer = _time.CreateTimer(static state => ((ClusterState)state!).OnRefreshTimer(), this, rate, rate);
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private void OnRefreshTimer()
    {
        // A slow resolver must not stack refreshes; skip a tick instead.
        if (Interlocked.CompareExchange(ref _refreshing, 1, 0) != 0)
        {
            return;
        }

        _ = RefreshFromTimerAsync();
    }

    private async Task RefreshFromTimerAsync()
    {
        try
        {
            await RefreshDnsAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Disposed while resolving.
        }
        catch (ObjectDisposedException)
        {
            // Disposed while resolving.
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    private void Publish(List<EndpointState> endpoints)
    {
        ImmutableArray<EndpointState> current = Endpoints.Endpoints;
        if (current.Length == endpoints.Count)
        {
            bool same = true;
            for (int i = 0; i < endpoints.Count && same; i++)
            {
                same = ReferenceEquals(current[i], endpoints[i]);
            }

            if (same)
            {
                return;
            }
        }

        Volatile.Write(ref _endpoints, new EndpointSet(endpoints, _random));
    }

    private void EvictIdleOriginalDestinations(ConcurrentDictionary<IPEndPoint, EndpointState> cache)
    {
        foreach (KeyValuePair<IPEndPoint, EndpointState> entry in cache)
        {
            if (entry.Value.ActiveRequests == 0 && cache.TryRemove(entry))
            {
                Interlocked.Decrement(ref _originalDestinationCount);
            }
        }
    }
}
