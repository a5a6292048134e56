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
    /// <summary>The peer's DATA, in order; completed at END_STREAM, or with an error at reset.</summary>
    public PipeReader InboundBody => _inbound.Reader;
    internal PipeWriter InboundWriter => _inbound.Writer;

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
        Head.Reset(headKind);
        Trailers.Reset(Http2HeadKind.Trailers);
        // Two owners: the connection's stream table and the stream's own work; the last to let go recycles it.
        _references = 2;
        OnStart();
    }

    protected virtual void OnStart() { }

    /// <summary>Releases one of the two references; true when the stream may be recycled.</summary>
    internal bool Release() => Interlocked.Decrement(ref _references) == 0;

    internal void ResetInboundPipe() => _inbound.Reset();

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
