using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Connections;
using Sidecar.Native.Sockets;

namespace Sidecar.Core.Transport.Sockets;

/// <summary>
/// A listening socket of our transport. The socket is made and bound by .NET (so the listener options in
/// <see cref="SocketListener"/> apply unchanged) but never used asynchronously there: accept4 runs on our side,
/// non-blocking; when the backlog is empty the accept waits for the listener's readable edge on its loop.
/// Accepted sockets are spread over the loops (<see cref="EpollLoopGroup.Next"/>).
/// </summary>
internal sealed class EpollListener : EpollHandler, IConnectionListener, IValueTaskSource<bool>
{
    private readonly Socket _socket;
    private readonly int _fd;
    private readonly EpollLoop _loop;
    private readonly EpollLoopGroup _group;
    private readonly TransportPipeOptions _options;
    private readonly nint _token;
    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<bool> _waiter;
    private bool _armed;
    private bool _edge;
    private volatile bool _disposed;

    private EpollListener(Socket socket, EpollLoopGroup group, TransportPipeOptions options)
    {
        _socket = socket;
        _fd = (int)socket.SafeHandle.DangerousGetHandle();
        _group = group;
        _loop = group.Next();
        _options = options;
        EndPoint = socket.LocalEndPoint!;
        _token = _loop.Register(_fd, this);
        if (_token == 0) throw new SocketException(Marshal.GetLastPInvokeError());
    }

    /// <summary>Listens on a socket already bound (with its options) by the caller; takes ownership of it.</summary>
    public static EpollListener Start(Socket bound, TransportPipeOptions options)
    {
        bound.Blocking = false;
        bound.Listen(1024);
        return new EpollListener(bound, EpollLoopGroup.Shared, options);
    }

    public EndPoint EndPoint { get; }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (!_disposed)
        {
            lock (_lock) _edge = false;
            int fd = AcceptOne(out int errno);
            if (fd >= 0)
            {
                EpollInterop.SetInt(fd, EpollInterop.IpProtoTcp, EpollInterop.TcpNoDelay, 1);
                EpollConnection? connection = EpollConnection.Start(_group.Next(), fd, _options);
                if (connection is not null) return connection;
                continue;
            }
            if (_disposed || errno is 9 /* EBADF */ or 22 /* EINVAL: not listening any more */) return null;
            if (errno == EpollInterop.EAgain)
            {
                short version;
                lock (_lock)
                {
                    if (_edge) continue; // a connection arrived between accept4 and here
                    _waiter.Reset();
                    version = _waiter.Version;
                    _armed = true;
                }
                if (!await new ValueTask<bool>(this, version).ConfigureAwait(false)) return null;
                continue;
            }
            if (errno is 24 or 23 /* EMFILE, ENFILE */)
            {
                // Out of descriptors: the pending connection stays in the backlog; try again shortly rather than spin.
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
            // ECONNABORTED, EINTR, EPROTO...: that one connection is gone; accept the next.
        }
        return null;
    }

    private unsafe int AcceptOne(out int errno)
    {
        int fd = EpollInterop.Accept4(_fd, null, null, EpollInterop.SockNonblock | EpollInterop.SockCloexec);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd;
    }

    internal override void OnEvents(uint events) => Signal(true);

    internal override void OnPosted() => _loop.Release(_token);

    private void Signal(bool result)
    {
        lock (_lock)
        {
            if (!_armed)
            {
                _edge = true;
                return;
            }
            _armed = false;
        }
        _waiter.SetResult(result);
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => DisposeAsync();

    public ValueTask DisposeAsync()
    {
        if (_disposed) return default;
        _disposed = true;
        _loop.Unregister(_fd);
        _socket.Dispose();
        _loop.Post(this); // frees the registration on the loop, after any event already collected for it
        Signal(false);
        return default;
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _waiter.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _waiter.GetStatus(token);
    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _waiter.OnCompleted(continuation, state, token, flags);
}
