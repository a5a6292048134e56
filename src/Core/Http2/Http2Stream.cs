using System.Buffers;
using System.IO.Pipelines;
using Sidecar.Core.Async;

namespace Sidecar.Core.Http2;

/// <summary>
/// State shared by both ends of one HTTP/2 stream (RFC 9113 §5.1): the peer's header blocks, the
/// inbound body as a pipe, and both flow-control windows. Role-specific behaviour (a proxied request,
/// an upstream request) lives in subclasses. Objects are pooled per connection and reset for reuse.
/// </summary>
public abstract class Http2Stream
{
    private static readonly PipeOptions InboundPipeOptions = new(
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        // Flow control bounds what the peer may send; the pipe itself never pauses the read loop.
        pauseWriterThreshold: 0,
        useSynchronizationContext: false);

    private readonly Pipe _inbound = new(InboundPipeOptions);
    private int _references;

    // The inbound pipe costs a lock per operation (write, complete, read, advance, reset: 3 to 6 per stream), and most
    // streams never need it: a bodyless request ends at its HEADERS, and a proxied response's DATA goes straight to
    // the other connection. So the pipe's writer end is completed only once a consumer takes the reader; until
    // then an end (or reset) is only noted, and a stream whose pipe nobody wrote or read needs no reset to be reused.
    private const int InboundUntouched = 0, InboundReaderTaken = 1, InboundEndDeferred = 2, InboundEndApplied = 3;
    private int _inboundState;
    // The deferred end: CleanEnd, or the exception the reader must see.
    private object? _deferredEnd;
    private static readonly object CleanEnd = new();
    private bool _inboundWritten;

    protected Http2Stream()
    {
        Head = new Http2Head();
        Trailers = new Http2Head();
    }

    public int Id { get; private set; }
    public Http2Connection Connection { get; private set; } = null!;
    /// <summary>The peer's header block (request on the server side, response on the client side).</summary>
    public Http2Head Head { get; }
    public Http2Head Trailers { get; }
    public bool HasTrailers { get; internal set; }
    /// <summary>The peer's DATA, in order; completed at END_STREAM, or with an error at reset. Taking it commits the
    /// stream to the pipe (see <see cref="InboundSignal"/> for waiting without it).</summary>
    public PipeReader InboundBody
    {
        get
        {
            if (Volatile.Read(ref _inboundState) != InboundReaderTaken
                && Interlocked.CompareExchange(ref _inboundState, InboundReaderTaken, InboundUntouched) == InboundEndDeferred
                && Interlocked.CompareExchange(ref _inboundState, InboundEndApplied, InboundEndDeferred) == InboundEndDeferred)
            {
                CompleteInboundWriter(_deferredEnd);
            }
            return _inbound.Reader;
        }
    }

    /// <summary>
    /// Woken (by the read loop, or whoever resets the stream) when DATA is queued in <see cref="InboundBody"/> or the
    /// inbound side ends: a consumer that lets DATA pass through <see cref="TryForwardData"/> waits on this instead of
    /// on the pipe. Check <see cref="HasQueuedInbound"/> and <see cref="InboundEnded"/> after each wake.
    /// </summary>
    public ReusableSignal InboundSignal { get; } = new();
    /// <summary>DATA waits in <see cref="InboundBody"/> (the pass-through refused it).</summary>
    public bool HasQueuedInbound => Volatile.Read(ref BufferedInbound) != 0;
    /// <summary>END_STREAM arrived (trailers included: <see cref="HasTrailers"/> is set first) or the stream was reset.</summary>
    public bool InboundEnded => Volatile.Read(ref EndStreamReceived);

    /// <summary>In the connection's stream table (written under the table's lock; read by the read loop's lookup cache).</summary>
    internal bool InTable;

    // -- written by the read loop --
    internal bool HeadReceived;
    internal bool EndStreamReceived;
    internal long InboundDataBytes;
    /// <summary>The peer's message has no content whatever its content-length says (a response to HEAD,
    /// RFC 9110 §9.3.2): END_STREAM without DATA is then not a content-length mismatch (RFC 9113 §8.1.1).</summary>
    public bool BodylessResponseExpected { get; set; }
    /// <summary>How much more the peer may send before our next WINDOW_UPDATE (§6.9).</summary>
    internal int ReceiveWindow;
    /// <summary>Bytes the consumer has read and not yet returned to the peer as window.</summary>
    internal int ReceiveCredit;
    /// <summary>DATA bytes put in the inbound pipe and not yet consumed: while any are there, new DATA queues behind them.</summary>
    internal long BufferedInbound;

    // -- guarded by the connection's output lock --
    internal long SendWindow;
    internal bool EndStreamSent;
    internal bool ResetSent;

    /// <summary>Set by a peer RST_STREAM or our reset: no more frames of this stream may be sent.</summary>
    public bool IsReset { get; internal set; }
    public Http2ErrorCode ResetCode { get; internal set; }

    /// <summary>Woken when send window opens, the output drains, or the stream is reset.</summary>
    internal ReusableSignal SendSignal { get; } = new();
    internal bool WaitingToSend;
    /// <summary>When the current wait for send window began (ms, Environment.TickCount64), or 0.</summary>
    internal long SendStalledSinceMs;

    /// <summary>True when this stream has waited for flow-control window longer than <paramref name="limitMs"/>.</summary>
    public bool IsSendStalled(long nowMs, long limitMs)
    {
        long since = Volatile.Read(ref SendStalledSinceMs);
        return since != 0 && nowMs - since > limitMs;
    }

    internal void Start(Http2Connection connection, int id, int receiveWindow, long sendWindow, Http2HeadKind headKind)
    {
        Connection = connection;
        Id = id;
        HeadReceived = false;
        EndStreamReceived = false;
        InboundDataBytes = 0;
        BodylessResponseExpected = false;
        ReceiveWindow = receiveWindow;
        ReceiveCredit = 0;
        BufferedInbound = 0;
        SendWindow = sendWindow;
        EndStreamSent = false;
        ResetSent = false;
        IsReset = false;
        ResetCode = Http2ErrorCode.NoError;
        HasTrailers = false;
        WaitingToSend = false;
        SendStalledSinceMs = 0;
        SendSignal.Reset();
        InboundSignal.Reset();
        _inboundState = InboundUntouched;
        _deferredEnd = null;
        _inboundWritten = false;
        Head.Reset(headKind);
        Trailers.Reset(Http2HeadKind.Trailers);
        // Two owners: the connection's stream table and the stream's own work; the last to let go recycles it.
        _references = 2;
        OnStart();
    }

    protected virtual void OnStart() { }

    /// <summary>Releases one of the two references; true when the stream may be recycled.</summary>
    internal bool Release() => Interlocked.Decrement(ref _references) == 0;

    /// <summary>DATA the pass-through refused, queued for the consumer (read loop only; flow control bounds it).</summary>
    internal void QueueInbound(in ReadOnlySequence<byte> content)
    {
        _inboundWritten = true;
        Interlocked.Add(ref BufferedInbound, content.Length);
        PipeWriter writer = _inbound.Writer;
        foreach (ReadOnlyMemory<byte> segment in content) writer.Write(segment.Span);
        // The pipe never pauses (flow control bounds it), so this completes at once; a waiting reader runs inline.
        ValueTask<FlushResult> flushed = writer.FlushAsync();
        System.Diagnostics.Debug.Assert(flushed.IsCompleted);
        if (flushed.IsCompleted) flushed.GetAwaiter().GetResult();
        InboundSignal.Set();
    }

    /// <summary>
    /// Ends the inbound side: cleanly at END_STREAM (<paramref name="error"/> null) or with the reset's exception.
    /// Deferred while no consumer has taken the pipe's reader; the first end wins. Any thread.
    /// </summary>
    internal void EndInboundBody(Exception? error)
    {
        if (Interlocked.CompareExchange(ref _deferredEnd, error ?? CleanEnd, null) is null)
        {
            int was = Interlocked.CompareExchange(ref _inboundState, InboundEndDeferred, InboundUntouched);
            if (was == InboundReaderTaken) CompleteInboundWriter(_deferredEnd);
        }
        InboundSignal.Set();
    }

    private void CompleteInboundWriter(object? end) => _inbound.Writer.Complete(end as Exception);

    /// <summary>Makes the pipe ready for the stream's next use; skipped when nobody wrote or read it (the usual case).</summary>
    internal void RecycleInbound()
    {
        if (!_inboundWritten && _inboundState is InboundUntouched or InboundEndDeferred) return;
        _inbound.Writer.Complete();
        _inbound.Reader.Complete();
        _inbound.Reset();
    }

    /// <summary>The peer's header block is complete (and valid); runs on the read loop.</summary>
    protected internal abstract void OnHeadersReceived(bool endStream);

    /// <summary>Trailers arrived (END_STREAM implied); runs on the read loop after the body pipe completes.</summary>
    protected internal virtual void OnTrailersReceived() { }

    /// <summary>The peer reset the stream or the connection ended; runs on the read loop.</summary>
    protected internal virtual void OnReset(Http2ErrorCode code) { }

    /// <summary>
    /// DATA content arrived while nothing is queued in the inbound pipe: a subclass may pass it on at once
    /// (a proxy writes it straight into the other connection's output: one copy, no pipe, no wake-up) and
    /// return true; the bytes then count as consumed. <paramref name="endStream"/>: the frame ended the stream
    /// (no trailers can follow, §8.1), so the forwarded copy may end its stream too. Runs on the read loop.
    /// </summary>
    protected internal virtual bool TryForwardData(in System.Buffers.ReadOnlySequence<byte> content, bool endStream) => false;

    /// <summary>
    /// Tells the connection the consumer is done with <paramref name="bytes"/> of inbound DATA, so the
    /// peer may send that much more (stream and connection WINDOW_UPDATE, batched at half a window).
    /// </summary>
    public void ConsumeInbound(int bytes) => Connection.OnInboundConsumed(this, bytes);
}
