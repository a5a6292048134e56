namespace Sidecar.Core.Transport.Sockets;

/// <summary>
/// The process's event loops (<c>--concurrency N</c> = N loops). Placement keeps a request on one thread: an
/// upstream socket opened from a loop thread joins that loop, so the downstream socket that asked for it and the
/// upstream it talks to share a thread (no cross-core hand-off between receive and send). Accepted sockets are
/// spread round-robin; a connection opened from a non-loop thread also goes round-robin.
/// </summary>
internal sealed class EpollLoopGroup
{
    private static int s_configuredCount = 1;
    private static EpollLoopGroup? s_shared;
    private static readonly Lock s_sharedLock = new();

    private readonly EpollLoop[] _loops;
    private uint _next;

    private EpollLoopGroup(int count)
    {
        _loops = new EpollLoop[count];
        for (int i = 0; i < count; i++) _loops[i] = new EpollLoop($"sidecar-loop-{i}");
    }

    /// <summary>Sets the number of loops; takes effect if called before the first socket is opened.</summary>
    public static void Configure(int count) => s_configuredCount = Math.Max(1, count);

    public static EpollLoopGroup Shared
    {
        get
        {
            if (s_shared is { } group) return group;
            lock (s_sharedLock) return s_shared ??= new EpollLoopGroup(s_configuredCount);
        }
    }

    public int Count => _loops.Length;

    /// <summary>The caller's loop when it runs on one of ours, else the next in turn.</summary>
    public EpollLoop PickForConnect() => EpollLoop.Current ?? Next();

    public EpollLoop Next()
    {
        if (_loops.Length == 1) return _loops[0];
        uint i = Interlocked.Increment(ref _next);
        return _loops[i % (uint)_loops.Length];
    }
}
