using System.Net;
using Sidecar.Core.Balancing;

namespace Sidecar.Core.Pools;

/// <summary>
/// The HTTP/2 connections of one cluster, per endpoint. A request takes a stream slot on the first
/// live connection with room; only when none has room is a new connection opened (Envoy's behaviour:
/// one connection per endpoint unless streams run out).
/// </summary>
public sealed class Http2UpstreamPool : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IPEndPoint, List<Http2UpstreamConnection>> _connections = [];
    private readonly Action<Http2UpstreamConnection> _onClosed;
    private bool _disposed;
    // The list of the endpoint asked for last (requests to one endpoint follow each other): spares hashing its
    // address on every request. Guarded by the lock; lists stay in the dictionary until Dispose clears both.
    private EndpointState? _lastEndpoint;
    private List<Http2UpstreamConnection>? _lastList;

    // Connections being opened, per endpoint: requests that find no room wait for one of these while it has room for
    // them (Envoy's pool counts a connecting connection's streams as capacity), so a burst opens one connection.
    private readonly Dictionary<IPEndPoint, PendingHttp2Connection> _connecting = [];

    public Http2UpstreamPool() => _onClosed = Remove;

    /// <summary>
    /// For a request that found no room (<see cref="TryReserve"/> returned null): joins the connection being opened to
    /// <paramref name="endpoint"/> while fewer than <paramref name="streamsPerConnection"/> requests share it (<paramref name="opener"/>
    /// false: await <see cref="PendingHttp2Connection.Task"/>), or registers a new one that the caller opens and
    /// finishes with <see cref="CompleteConnect"/> (<paramref name="opener"/> true).
    /// </summary>
    public PendingHttp2Connection JoinOrOpen(EndpointState endpoint, int streamsPerConnection, out bool opener)
    {
        lock (_lock)
        {
            if (_connecting.TryGetValue(endpoint.Address, out PendingHttp2Connection? pending) && pending.Sharers < streamsPerConnection)
            {
                pending.Sharers++;
                opener = false;
                return pending;
            }
            pending = new PendingHttp2Connection();
            _connecting[endpoint.Address] = pending;
            opener = true;
            return pending;
        }
    }

    /// <summary>The opener's result (a connection already added to the pool, or null) goes to every request that joined it.</summary>
    public void CompleteConnect(EndpointState endpoint, PendingHttp2Connection pending, Http2UpstreamConnection? connection, bool overflowed)
    {
        lock (_lock)
        {
            if (_connecting.TryGetValue(endpoint.Address, out PendingHttp2Connection? current) && ReferenceEquals(current, pending))
                _connecting.Remove(endpoint.Address);
        }
        // Outside the lock: the waiters resume here, inline, and each takes a stream on the connection.
        pending.Complete(connection, overflowed);
    }

    /// <summary>A connection with a reserved stream slot, or null when a new connection is needed.</summary>
    public Http2UpstreamConnection? TryReserve(EndpointState endpoint)
    {
        lock (_lock)
        {
            List<Http2UpstreamConnection>? list = ReferenceEquals(endpoint, _lastEndpoint) ? _lastList : null;
            if (list is null)
            {
                if (!_connections.TryGetValue(endpoint.Address, out list)) return null;
                _lastEndpoint = endpoint;
                _lastList = list;
            }
            foreach (Http2UpstreamConnection c in list)
            {
                if (c.TryReserve()) return c;
            }
            return null;
        }
    }

    /// <summary>Adds a freshly connected connection (already started) and reserves a slot on it.</summary>
    public bool Add(Http2UpstreamConnection connection)
    {
        connection.Closed += _onClosed;
        lock (_lock)
        {
            if (_disposed) return false;
            if (!_connections.TryGetValue(connection.Endpoint.Address, out var list)) _connections[connection.Endpoint.Address] = list = [];
            list.Add(connection);
        }
        return connection.TryReserve();
    }

    private void Remove(Http2UpstreamConnection connection)
    {
        lock (_lock)
        {
            if (_connections.TryGetValue(connection.Endpoint.Address, out var list)) list.Remove(connection);
        }
    }

    public void Dispose()
    {
        List<Http2UpstreamConnection> all = [];
        lock (_lock)
        {
            _disposed = true;
            foreach (var l in _connections.Values) all.AddRange(l);
            _connections.Clear();
            _lastEndpoint = null;
            _lastList = null;
        }
        foreach (var c in all) c.SendGoAway(Http2.Http2ErrorCode.NoError);
    }
}

/// <summary>An upstream connection being opened, shared by the requests that wait for it.</summary>
public sealed class PendingHttp2Connection
{
    private readonly TaskCompletionSource<Http2UpstreamConnection?> _done = new();

    /// <summary>Requests sharing it, the opener included (guarded by the pool's lock).</summary>
    internal int Sharers = 1;
    /// <summary>The connection (already in the pool), or null when opening it failed.</summary>
    public Task<Http2UpstreamConnection?> Task => _done.Task;
    /// <summary>Opening failed on the cluster's connection limit rather than on the connect itself.</summary>
    public bool Overflowed { get; private set; }

    internal void Complete(Http2UpstreamConnection? connection, bool overflowed)
    {
        Overflowed = overflowed;
        _done.TrySetResult(connection);
    }
}
