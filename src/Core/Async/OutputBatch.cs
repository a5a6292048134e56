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
    /// Notes <paramref name="output"/> (once) for the flush at the end of this thread's open batch. False when the batch
    /// is full: the caller then flushes now. The "already noted" test is this thread's list, not a flag on the output:
    /// an output shared by connections on two event loops may be noted by both batches, and neither may take the
    /// other's note for its own (the other batch may have flushed already).
    /// </summary>
    public static bool TryDefer(IBatchedOutput output)
    {
        IBatchedOutput?[] pending = t_pending ??= new IBatchedOutput?[MaxPending];
        for (int i = 0; i < t_pendingCount; i++)
        {
            if (ReferenceEquals(pending[i], output)) return true;
        }
        if (t_pendingCount == MaxPending) return false;
        pending[t_pendingCount++] = output;
        return true;
    }
}
