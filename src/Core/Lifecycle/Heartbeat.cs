using System.Collections.Concurrent;

namespace Sidecar.Core.Lifecycle;

/// <summary>Something with deadlines, checked by the <see cref="Heartbeat"/>.</summary>
public interface IHeartbeatTarget
{
    void OnHeartbeat(long nowMs);
}

/// <summary>
/// One timer for every connection's deadlines (as Kestrel's heartbeat): a connection arms a timeout
/// by writing a tick value into a field, which costs nothing per request, instead of arming a timer.
/// Resolution is <see cref="Interval"/>.
/// </summary>
public sealed class Heartbeat : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private readonly ConcurrentDictionary<IHeartbeatTarget, byte> _targets = new();
    private readonly Timer _timer;

    public Heartbeat() => _timer = new Timer(static s => ((Heartbeat)s!).Tick(), this, Interval, Interval);

    public void Register(IHeartbeatTarget target) => _targets.TryAdd(target, 0);
    public void Unregister(IHeartbeatTarget target) => _targets.TryRemove(target, out _);

    private void Tick()
    {
        long now = Environment.TickCount64;
        foreach (var kv in _targets)
        {
            try
            {
                kv.Key.OnHeartbeat(now);
            }
            catch (ObjectDisposedException)
            {
                // The connection ended while we looked at it.
            }
        }
    }

    public void Dispose() => _timer.Dispose();
}
