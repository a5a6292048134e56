using System.Net;
using Sidecar.Core.Balancing;

namespace Sidecar.Core.Pools;

/// <summary>
/// Idle keep-alive HTTP/1.1 connections of one cluster, per endpoint, most recently used first
/// (a warm connection is less likely to have been closed by the peer). A short lock guards the
/// stacks; it is held for a push or pop only, never across I/O.
/// </summary>
public sealed class Http1UpstreamPool : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IPEndPoint, Stack<UpstreamConnection>> _idle = [];
    private readonly int _maxIdlePerEndpoint;
    private readonly TimeSpan _idleTimeout;
    private bool _disposed;

    public Http1UpstreamPool(int maxIdlePerEndpoint, TimeSpan idleTimeout)
    {
        _maxIdlePerEndpoint = maxIdlePerEndpoint;
        _idleTimeout = idleTimeout;
    }

    public int IdleCount
    {
        get
        {
            lock (_lock)
            {
                int n = 0;
                foreach (var s in _idle.Values) n += s.Count;
                return n;
            }
        }
    }

    /// <summary>Pops a live idle connection to <paramref name="endpoint"/>, discarding dead or expired ones.</summary>
    public UpstreamConnection? TryAcquire(EndpointState endpoint)
    {
        long now = Environment.TickCount64;
        while (true)
        {
            UpstreamConnection? c;
            lock (_lock)
            {
                if (!_idle.TryGetValue(endpoint.EndPoint, out var stack) || !stack.TryPop(out c)) return null;
            }
            bool expired = _idleTimeout > TimeSpan.Zero && now - c.IdleSinceTicks > (long)_idleTimeout.TotalMilliseconds;
            if (!expired && c.LooksAlive())
            {
                c.Reused = true;
                return c;
            }
            _ = c.DisposeAsync().AsTask();
        }
    }

    /// <summary>Returns a connection that finished an exchange cleanly; false when it was closed instead.</summary>
    public bool Release(UpstreamConnection c)
    {
        c.IdleSinceTicks = Environment.TickCount64;
        lock (_lock)
        {
            if (!_disposed)
            {
                if (!_idle.TryGetValue(c.Endpoint.EndPoint, out var stack)) _idle[c.Endpoint.EndPoint] = stack = new Stack<UpstreamConnection>(16);
                if (stack.Count < _maxIdlePerEndpoint)
                {
                    stack.Push(c);
                    return true;
                }
            }
        }
        _ = c.DisposeAsync().AsTask();
        return false;
    }

    public void Dispose()
    {
        List<UpstreamConnection> all = [];
        lock (_lock)
        {
            _disposed = true;
            foreach (var s in _idle.Values) all.AddRange(s);
            _idle.Clear();
        }
        foreach (var c in all) _ = c.DisposeAsync().AsTask();
    }
}
