namespace Sidecar.Core.Async;

/// <summary>An output that can postpone its flush to the end of the current <see cref="OutputBatch"/>.</summary>
public interface IBatchedOutput
{
    /// <summary>Runs at the end of the outermost batch for an output that deferred a flush during it.</summary>
    void FlushDeferred();
}

/// <summary>
/// A scope on one thread inside which multiplexed outputs only note that they need a flush; the outermost end
/// flushes each noted output once. An event loop opens one per epoll batch and a read loop one per buffer of
/// frames, so a buffer full of streams' HEADERS (or a batch of readable sockets each answering streams of the same
/// connection) costs one send per touched connection instead of one per stream — each loopback send also pays the
/// peer's receive path and wake-up. Thread-static: nothing to pass around, and no thread ever waits for another.
/// </summary>
public static class OutputBatch
{
    private const int MaxPending = 16;

    [ThreadStatic] private static int t_depth;
    [ThreadStatic] private static IBatchedOutput?[]? t_pending;
    [ThreadStatic] private static int t_pendingCount;

    /// <summary>True inside a batch on this thread.</summary>
    public static bool IsOpen => t_depth > 0;

    /// <summary>Opens a batch on this thread (nestable).</summary>
    public static void Begin() => t_depth++;

    /// <summary>Closes a batch; the outermost close flushes every output deferred meanwhile.</summary>
    public static void End()
    {
        if (--t_depth > 0) return;
        // A flush may resume waiting streams inline, which may open (and close) batches of their own and defer more.
        while (t_pendingCount > 0)
        {
            IBatchedOutput output = t_pending![--t_pendingCount]!;
            t_pending[t_pendingCount] = null;
            output.FlushDeferred();
        }
    }

    /// <summary>
    /// Notes <paramref name="output"/> for the flush at the end of the open batch. False when the batch is full:
    /// the caller then flushes now. The caller keeps its own "already noted" flag so it is noted once.
    /// </summary>
    public static bool TryDefer(IBatchedOutput output)
    {
        t_pending ??= new IBatchedOutput?[MaxPending];
        if (t_pendingCount == MaxPending) return false;
        t_pending[t_pendingCount++] = output;
        return true;
    }
}
