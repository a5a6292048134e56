using System.Threading.Tasks.Sources;

namespace Sidecar.Core.Async;

/// <summary>
/// A latch one waiter awaits many times without allocating: <see cref="Set"/> before the wait makes
/// the next wait complete at once; a set during the wait resumes the waiter inline, on the setter's
/// thread (no hop to the thread pool — on this hardware a cross-core wake-up costs tens of µs).
/// Setters must not hold locks the waiter takes.
/// </summary>
public sealed class ReusableSignal : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = false };
    // 0 idle, 1 waiting, 2 set while nobody waited.
    private int _state;

    public ValueTask WaitAsync()
    {
        if (Interlocked.CompareExchange(ref _state, 0, 2) == 2) return default;
        _core.Reset();
        if (Interlocked.CompareExchange(ref _state, 1, 0) == 2)
        {
            _state = 0;
            return default;
        }
        return new ValueTask(this, _core.Version);
    }

    public void Set()
    {
        while (true)
        {
            int s = Volatile.Read(ref _state);
            if (s == 2) return;
            if (s == 1)
            {
                if (Interlocked.CompareExchange(ref _state, 0, 1) == 1)
                {
                    _core.SetResult(true);
                    return;
                }
                continue;
            }
            if (Interlocked.CompareExchange(ref _state, 2, 0) == 0) return;
        }
    }

    /// <summary>Forgets a set nobody waited for (when a pooled owner is reused).</summary>
    public void Reset() => Volatile.Write(ref _state, 0);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);
    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
