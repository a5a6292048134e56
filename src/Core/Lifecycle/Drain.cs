namespace Sidecar.Core.Lifecycle;

/// <summary>
/// Shutdown as a primitive (after ztunnel's drain.rs): <see cref="Graceful"/> fires first — listeners
/// stop accepting, idle connections close, busy ones finish their current request and then close;
/// <see cref="Force"/> fires at the deadline and aborts whatever is left. Every connection task
/// observes both, and <see cref="WaitForConnectionsAsync"/> completes when the last one has ended.
/// </summary>
public sealed class Drain : IDisposable
{
    private readonly CancellationTokenSource _graceful = new();
    private readonly CancellationTokenSource _force = new();
    private readonly TaskCompletionSource _allClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _active;

    public CancellationToken Graceful => _graceful.Token;
    public CancellationToken Force => _force.Token;
    public bool IsDraining => _graceful.IsCancellationRequested;
    public int ActiveConnections => Volatile.Read(ref _active);

    public void ConnectionOpened() => Interlocked.Increment(ref _active);

    public void ConnectionClosed()
    {
        if (Interlocked.Decrement(ref _active) == 0 && IsDraining) _allClosed.TrySetResult();
    }

    /// <summary>Starts the graceful phase, then forces after <paramref name="deadline"/>. Returns when all connections ended.</summary>
    public async Task DrainAsync(TimeSpan deadline)
    {
        if (!_graceful.IsCancellationRequested) await _graceful.CancelAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _active) == 0) _allClosed.TrySetResult();
        Task finished = await Task.WhenAny(_allClosed.Task, Task.Delay(deadline)).ConfigureAwait(false);
        if (finished != _allClosed.Task)
        {
            await _force.CancelAsync().ConfigureAwait(false);
            await Task.WhenAny(_allClosed.Task, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _graceful.Dispose();
        _force.Dispose();
    }
}
