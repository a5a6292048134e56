namespace Sidecar.Core.Identity;

/// <summary>
/// Runs an action once after a burst of triggers has been quiet for <c>delay</c>: file watchers report one rotation as
/// several events (create, write, rename, symlink swap) and reloading on each would read half-written files.
/// </summary>
internal sealed class Debouncer : IDisposable
{
    private readonly Timer _timer;
    private readonly TimeSpan _delay;
    private int _disposed;

    public Debouncer(TimeSpan delay, Action action)
    {
        _delay = delay;
        _timer = new Timer(static state => ((Action)state!)(), action, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>(Re)starts the quiet period; the action runs <c>delay</c> after the last call.</summary>
    public void Trigger()
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        try
        {
            _timer.Change(_delay, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Raced with Dispose; nothing left to run.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _timer.Dispose();
    }
}
