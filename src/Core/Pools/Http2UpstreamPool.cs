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

    public Http2UpstreamPool() => _onClosed = Remove;

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
