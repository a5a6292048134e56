using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Sidecar.Core.Async;
using Sidecar.Native.Sockets;

namespace Sidecar.Core.Transport.Sockets;

/// <summary>Something registered with a loop's epoll set: it is told which events fired, on the loop thread.</summary>
internal abstract class EpollHandler
{
    /// <summary>Runs on the loop thread for every epoll event of this handler's fd.</summary>
    internal abstract void OnEvents(uint events);

    /// <summary>Runs on the loop thread for each <see cref="EpollLoop.Post"/> of this handler.</summary>
    internal abstract void OnPosted();
}

/// <summary>
/// One event-loop thread: an epoll set where each socket is registered once, edge-triggered, for reads and
/// writes. On an event the handler reads into its pipe and flushes, so the application's continuation (parse,
/// route, forward) runs inline on this thread, and its writes to sockets of the same loop go straight to send.
/// Work from other threads (close, abort, resume after backpressure) arrives through an eventfd, so every fd is
/// closed on its loop thread: no close can race a recv of the same number, and no event can name a reused fd.
/// </summary>
internal sealed unsafe class EpollLoop : IDisposable
{
    private const int MaxEvents = 256;

    [ThreadStatic]
    private static EpollLoop? t_current;

    private readonly int _epfd;
    private readonly int _eventFd;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<EpollHandler> _posted = new();
    private readonly List<GCHandle> _deferredFree = [];
    private int _wakePending;
    private volatile bool _stopping;

    public EpollLoop(string name)
    {
        _epfd = EpollInterop.EpollCreate(EpollInterop.EpollCloexec);
        if (_epfd < 0) throw new System.Net.Sockets.SocketException(Marshal.GetLastPInvokeError());
        _eventFd = EpollInterop.EventFd(0, EpollInterop.EfdCloexec | EpollInterop.EfdNonblock);
        if (_eventFd < 0) throw new System.Net.Sockets.SocketException(Marshal.GetLastPInvokeError());
        // data 0 marks the eventfd; handlers carry a GCHandle, never 0.
        if (Control(EpollInterop.EpollCtlAdd, _eventFd, EpollInterop.EpollIn, 0) != 0) throw new System.Net.Sockets.SocketException(Marshal.GetLastPInvokeError());
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.UnsafeStart();
    }

    /// <summary>The loop whose thread is running the caller, if any.</summary>
    public static EpollLoop? Current => t_current;

    public bool IsCurrent => t_current == this;

    /// <summary>
    /// Adds <paramref name="fd"/> once for the whole life of the socket: readable, writable, peer-closed,
    /// edge-triggered. Returns the registration token (to free on the loop after close), or 0 with errno.
    /// </summary>
    public nint Register(int fd, EpollHandler handler)
    {
        GCHandle handle = GCHandle.Alloc(handler);
        nint token = GCHandle.ToIntPtr(handle);
        if (Control(EpollInterop.EpollCtlAdd, fd, EpollInterop.EpollIn | EpollInterop.EpollOut | EpollInterop.EpollRdHup | EpollInterop.EpollEt, (ulong)token) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            handle.Free();
            Marshal.SetLastPInvokeError(errno);
            return 0;
        }
        return token;
    }

    /// <summary>
    /// Frees a registration after its fd was closed (closing removes it from the set). Called on the loop thread; the
    /// handle is freed after the current batch, whose later events may still carry it.
    /// </summary>
    public void Release(nint token)
    {
        if (token != 0) _deferredFree.Add(GCHandle.FromIntPtr(token));
    }

    /// <summary>Removes a fd that stays open (a listener being unbound on another thread's behalf).</summary>
    public void Unregister(int fd) => Control(EpollInterop.EpollCtlDel, fd, 0, 0);

    /// <summary>Runs <paramref name="handler"/>.<see cref="EpollHandler.OnPosted"/> on the loop thread, soon.</summary>
    public void Post(EpollHandler handler)
    {
        _posted.Enqueue(handler);
        if (t_current == this) return; // drained after the current batch
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            ulong one = 1;
            EpollInterop.Write(_eventFd, (byte*)&one, 8);
        }
    }

    private int Control(int op, int fd, uint events, ulong data)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(ulong*)(ev + EpollInterop.EventDataOffset) = data;
        return EpollInterop.EpollCtl(_epfd, op, fd, ev);
    }

    private void Run()
    {
        t_current = this;
        int size = EpollInterop.EventSize;
        int dataOffset = EpollInterop.EventDataOffset;
        byte* events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * size));
        try
        {
            while (!_stopping)
            {
                int n = EpollInterop.EpollWait(_epfd, events, MaxEvents, -1);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EpollInterop.EIntr) continue;
                    throw new System.Net.Sockets.SocketException(Marshal.GetLastPInvokeError());
                }
                // Outputs written by this batch's handlers (HTTP/2 connections) flush once, after all of them ran.
                OutputBatch.Begin();
                for (int i = 0; i < n; i++)
                {
                    byte* ev = events + (i * size);
                    ulong data = *(ulong*)(ev + dataOffset);
                    if (data == 0)
                    {
                        ulong value;
                        EpollInterop.Read(_eventFd, (byte*)&value, 8);
                        // Reset before draining the queue: a Post racing with the drain either is seen by it or writes again.
                        Volatile.Write(ref _wakePending, 0);
                        continue;
                    }
                    var handler = (EpollHandler)GCHandle.FromIntPtr((nint)data).Target!;
                    Dispatch(handler, *(uint*)ev);
                }
                DrainPosted();
                OutputBatch.End();
                for (int i = 0; i < _deferredFree.Count; i++) _deferredFree[i].Free();
                _deferredFree.Clear();
            }
        }
        finally
        {
            NativeMemory.Free(events);
        }
    }

    private void DrainPosted()
    {
        while (_posted.TryDequeue(out EpollHandler? handler)) Dispatch(handler, 0);
    }

    /// <summary>A handler's failure must not take the loop (and every other connection on it) down.</summary>
    private static void Dispatch(EpollHandler handler, uint events)
    {
        try
        {
            if (events == 0) handler.OnPosted();
            else handler.OnEvents(events);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"transport: event handler failed: {ex}");
        }
    }

    public void Dispose()
    {
        _stopping = true;
        ulong one = 1;
        EpollInterop.Write(_eventFd, (byte*)&one, 8);
    }
}
