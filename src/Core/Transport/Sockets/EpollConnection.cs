using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Sidecar.Native.Sockets;

namespace Sidecar.Core.Transport.Sockets;

/// <summary>
/// One TCP socket of Sidecar's own transport, seen by the proxy as a <see cref="ConnectionContext"/> with two pipes.
/// Input: on a readable edge the loop thread receives into the pipe's (large) blocks until a short read says the
/// socket is drained, then flushes, which runs the reader's continuation inline. Output: whichever thread flushes
/// sends at once (see EpollConnection.Send.cs). Half-close as TCP has it: completing Output sends what is left and
/// then shutdown(SHUT_WR); a FIN from the peer completes Input. The fd is closed on the loop thread once the
/// application is done with both directions, or on <see cref="Abort(ConnectionAbortedException)"/> (with RST).
/// Loop-thread-only state is marked so; everything else is touched through Interlocked/volatile.
/// </summary>
internal sealed unsafe partial class EpollConnection : ConnectionContext, IConnectionSocketFeature
{
    /// <summary>Receive no less than this per call (the rest of a block if larger); a fresh block otherwise.</summary>
    private const int MinReadSize = 8 * 1024;
    /// <summary>Bytes received per readable event before other sockets get their turn (fairness on a busy loop).</summary>
    private const int MaxBytesPerWakeup = 256 * 1024;

    private const int WorkResume = 1;
    private const int WorkAppInputDone = 2;
    private const int WorkMaybeClose = 4;
    private const int WorkAbort = 8;
    private const int WorkContinueRead = 16;

    private static long s_lastId;

    private readonly EpollLoop _loop;
    private readonly int _fd;
    private nint _token;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly Action _onInputFlushResumed;
    private int _postedWork;

    // Loop thread only.
    private bool _inputDone;
    private bool _flushPending;
    private ValueTask<FlushResult> _pendingFlush;
    private bool _closed;
    private bool _peerClosed;

    private volatile bool _appInputDone;
    private volatile bool _outputFinished;
    private volatile bool _aborted;
    private ConnectionAbortedException? _abortReason;
    private volatile TaskCompletionSource<int>? _connectWaiter;
    private CancellationTokenSource? _closedSource;
    private readonly Lock _lazyLock = new();
    private Socket? _socket;
    private EndPoint? _localEndPoint;
    private EndPoint? _remoteEndPoint;
    private string? _connectionId;
    private IDictionary<object, object?>? _items;

    private EpollConnection(EpollLoop loop, int fd, TransportPipeOptions options)
    {
        _loop = loop;
        _fd = fd;
        _input = new Pipe(options.Input);
        _output = new Pipe(options.Output);
        Transport = new DuplexPipe(new InputReader(this, _input.Reader), new OutputWriter(this, _output.Writer));
        Features = new ConnectionFeatures(this);
        _onInputFlushResumed = OnInputFlushResumed;
        _handler = new LoopHandler(this);
    }

    /// <summary>Wraps an accepted or connected non-blocking socket and registers it with <paramref name="loop"/>.</summary>
    /// <returns>Null (fd closed) if epoll refused it.</returns>
    public static EpollConnection? Start(EpollLoop loop, int fd, TransportPipeOptions options, TaskCompletionSource<int>? connectWaiter = null)
    {
        var c = new EpollConnection(loop, fd, options) { _connectWaiter = connectWaiter };
        c._token = loop.Register(fd, c._handler);
        if (c._token != 0) return c;
        EpollInterop.Close(fd);
        return null;
    }

    public override IDuplexPipe Transport { get; set; }
    public override IFeatureCollection Features { get; }
    public override string ConnectionId
    {
        get => _connectionId ??= "e" + Interlocked.Increment(ref s_lastId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        set => _connectionId = value;
    }
    public override IDictionary<object, object?> Items { get => _items ??= new Dictionary<object, object?>(); set => _items = value; }

    public override EndPoint? LocalEndPoint
    {
        get => _localEndPoint ??= QueryAddress(local: true);
        set => _localEndPoint = value;
    }

    public override EndPoint? RemoteEndPoint
    {
        get => _remoteEndPoint ??= QueryAddress(local: false);
        set => _remoteEndPoint = value;
    }

    /// <summary>Fires once, on the thread pool, after the socket is closed.</summary>
    public override CancellationToken ConnectionClosed
    {
        get
        {
            lock (_lazyLock)
            {
                if (_closedSource is null)
                {
                    _closedSource = new CancellationTokenSource();
                    if (Volatile.Read(ref _closedFlag) != 0) _closedSource.Cancel();
                }
                return _closedSource.Token;
            }
        }
        set { }
    }
    private int _closedFlag;

    /// <summary>
    /// A <see cref="Socket"/> over our fd (not owning it) for socket options (SO_ORIGINAL_DST) and shutdown; made on
    /// first use. Its async methods must not be used: the fd belongs to our loop.
    /// </summary>
    public Socket Socket
    {
        get
        {
            lock (_lazyLock)
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _closedFlag) != 0, this);
                return _socket ??= new Socket(new SafeSocketHandle(_fd, ownsHandle: false));
            }
        }
    }

    /// <summary>Bytes received from the socket so far (loop thread writes; a diagnostic read elsewhere).</summary>
    internal long BytesReceived => Volatile.Read(ref _bytesReceived);
    private long _bytesReceived;

    /// <summary>For tests: the fd, to observe it from outside.</summary>
    internal int Fd => _fd;

    public override void Abort(ConnectionAbortedException abortReason)
    {
        if (_aborted) return;
        _abortReason = abortReason;
        _aborted = true;
        Post(WorkAbort);
    }

    /// <summary>
    /// The application is done: complete what it left open (Output sends its tail, then FIN). The fd closes on the loop
    /// once that has gone out; disposing does not wait for it (a peer that never reads must not hold the caller).
    /// </summary>
    public override ValueTask DisposeAsync()
    {
        Transport.Input.Complete();
        Transport.Output.Complete();
        return base.DisposeAsync();
    }

    private void Post(int work)
    {
        Interlocked.Or(ref _postedWork, work);
        _loop.Post(_handler);
    }

    private readonly LoopHandler _handler;

    /// <summary>The registration with the loop (a separate object so the connection's public surface stays the context's).</summary>
    private sealed class LoopHandler(EpollConnection connection) : EpollHandler
    {
        internal override void OnEvents(uint events) => connection.OnEvents(events);
        internal override void OnPosted() => connection.OnPosted();
    }

    // ---------------------------------------------------------------- loop thread

    private void OnEvents(uint events)
    {
        if (_closed) return;
        if (_connectWaiter is { } waiter)
        {
            // Non-blocking connect finished (connect(2): writable, then SO_ERROR says how).
            if ((events & (EpollInterop.EpollOut | EpollInterop.EpollErr | EpollInterop.EpollHup)) == 0) return;
            int error = 0;
            uint length = sizeof(int);
            EpollInterop.GetSockOpt(_fd, EpollInterop.SolSocket, EpollInterop.SoError, &error, &length);
            _connectWaiter = null;
            waiter.TrySetResult(error);
            if (error != 0) return;
        }
        if ((events & (EpollInterop.EpollOut | EpollInterop.EpollErr | EpollInterop.EpollHup)) != 0 && SendMayBePending) TrySend();
        // The peer's FIN (or an error) may sit behind the data: then a short read does not mean "nothing more".
        if ((events & (EpollInterop.EpollRdHup | EpollInterop.EpollErr | EpollInterop.EpollHup)) != 0) _peerClosed = true;
        if ((events & (EpollInterop.EpollIn | EpollInterop.EpollRdHup | EpollInterop.EpollErr | EpollInterop.EpollHup)) != 0) Receive();
    }

    private void OnPosted()
    {
        int work = Interlocked.Exchange(ref _postedWork, 0);
        if (work == 0 || _closed) return;
        if ((work & WorkAbort) != 0)
        {
            CloseNow();
            return;
        }
        if ((work & WorkResume) != 0)
        {
            _flushPending = false;
            FlushResult r = _pendingFlush.GetAwaiter().GetResult();
            _pendingFlush = default;
            if (r.IsCompleted) _appInputDoneSeen = true;
            else Receive(); // edge-triggered: bytes that arrived while paused raised no new edge
        }
        if ((work & WorkContinueRead) != 0 && !_flushPending) Receive();
        if ((work & (WorkAppInputDone | WorkMaybeClose)) != 0 || _appInputDoneSeen) MaybeClose();
    }

    private bool _appInputDoneSeen;

    private void Receive()
    {
        if (_inputDone || _flushPending) return;
        PipeWriter writer = _input.Writer;
        long total = 0;
        int error = 0;
        bool fin = false, more = false;
        while (true)
        {
            Memory<byte> memory = writer.GetMemory(MinReadSize);
            nint n;
            fixed (byte* p = memory.Span) n = EpollInterop.Recv(_fd, p, (nuint)memory.Length, 0);
            if (n > 0)
            {
                writer.Advance((int)n);
                total += n;
                _bytesReceived += n;
                // A stream socket returns less than asked only when its queue is empty: no EAGAIN probe needed
                // (unless the peer's FIN is already queued, which only the next read reports).
                if (n < memory.Length && !_peerClosed) break;
                if (total >= MaxBytesPerWakeup)
                {
                    more = true;
                    break;
                }
                continue;
            }
            if (n == 0)
            {
                fin = true;
                break;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EpollInterop.EIntr) continue;
            if (errno != EpollInterop.EAgain) error = errno;
            break;
        }
        if (error != 0)
        {
            _inputDone = true;
            // As Kestrel reports a reset peer, so the sessions' existing handling applies.
            writer.Complete(new ConnectionResetException(new SocketException(error).Message));
            return;
        }
        if (fin)
        {
            _inputDone = true;
            writer.Complete(); // publishes the bytes advanced above, then end of stream
            return;
        }
        if (total == 0) return;
        // The flush is consumed exactly once: its result when it completed synchronously, else on resume (OnPosted).
#pragma warning disable CA2012
        ValueTask<FlushResult> flush = writer.FlushAsync(); // the reader's continuation runs here, inline
#pragma warning restore CA2012
        if (flush.IsCompleted)
        {
            if (flush.Result.IsCompleted) _appInputDoneSeen = true;
            else if (more) Post(WorkContinueRead);
            return;
        }
        // Backpressure: the reader has MaxBufferBytes unread. Stop receiving (the kernel window fills and the peer
        // slows down) until it catches up; the resume arrives through the loop's queue.
        _flushPending = true;
        _pendingFlush = flush;
        flush.GetAwaiter().UnsafeOnCompleted(_onInputFlushResumed);
    }

    private void OnInputFlushResumed() => Post(WorkResume);

    /// <summary>The application completed Input (any thread).</summary>
    internal void OnAppInputCompleted()
    {
        _appInputDone = true;
        Post(WorkAppInputDone);
    }

    private void MaybeClose()
    {
        if (_closed) return;
        if (_appInputDone || _appInputDoneSeen)
        {
            if (!_inputDone && !_flushPending)
            {
                _inputDone = true;
                _input.Writer.Complete();
            }
            if (_outputFinished) CloseNow();
        }
    }

    /// <summary>Closes the fd, here on the loop thread, once no thread is inside a send on it.</summary>
    private void CloseNow()
    {
        if (_closed) return;
        _closeRequested = true;
        if (!TryTakeSendForClose()) return; // the sender posts WorkMaybeClose/WorkAbort again when it lets go
        _closed = true;
        if (_aborted) EpollInterop.SetAbortiveClose(_fd);
        if (!_inputDone)
        {
            _inputDone = true;
            _input.Writer.Complete(_aborted ? (_abortReason ?? new ConnectionAbortedException()) : null);
        }
        // Pending and future flushes of Output now report IsCompleted: the peer can take no more.
        _output.Reader.Complete();
        _outputFinished = true;
        lock (_lazyLock)
        {
            Volatile.Write(ref _closedFlag, 1);
            _socket?.Dispose(); // does not own the fd
        }
        EpollInterop.Close(_fd);
        _loop.Release(_token);
        if (_closedSource is not null) ThreadPool.UnsafeQueueUserWorkItem(static s => ((CancellationTokenSource)s!).Cancel(), _closedSource);
    }

    private EndPoint? QueryAddress(bool local)
    {
        if (Volatile.Read(ref _closedFlag) != 0) return null;
        byte* buffer = stackalloc byte[SockaddrEncoder.MaxSize];
        uint length = SockaddrEncoder.MaxSize;
        int rc = local ? EpollInterop.GetSockName(_fd, buffer, &length) : EpollInterop.GetPeerName(_fd, buffer, &length);
        if (rc != 0) return null;
        return SockaddrDecoder.TryDecode(new ReadOnlySpan<byte>(buffer, (int)length), out IPEndPoint? ep) ? ep : null;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
