using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Sidecar.Core.Async;
using Sidecar.Core.Balancing;
using Sidecar.Core.Http2;
using Sidecar.Core.Lifecycle;
using Sidecar.Core.Telemetry;

namespace Sidecar.Core.Pools;

/// <summary>
/// One multiplexed HTTP/2 connection to an upstream endpoint (the client end). Requests open streams
/// on it while SETTINGS_MAX_CONCURRENT_STREAMS allows; a GOAWAY stops new streams, and streams the
/// upstream says it never processed fail as refused so the caller may retry them (RFC 9113 §6.8).
/// The shared heartbeat drives its keepalive PINGs and the response-head deadlines of its streams.
/// </summary>
public sealed class Http2UpstreamConnection : Http2Connection, IAsyncDisposable, IHeartbeatTarget
{
    private readonly ConnectionContext _context;
    private readonly IUpstreamConnectionOwner _owner;
    private readonly Heartbeat _heartbeat;
    // Recycled stream objects; guarded by the output lock, which opening a stream holds anyway (BeginRequest).
    private readonly Stack<Http2UpstreamStream> _pool = new();
    private readonly int _streamCap;
    private int _nextStreamId = 1;
    private int _opening;
    private Task? _loop;
    private int _destroyed;

    public Http2UpstreamConnection(ConnectionContext context, EndpointState endpoint, IUpstreamConnectionOwner owner, Http2ConnectionOptions options, Http2Stats stats, Heartbeat heartbeat)
        : base(context.Transport.Input, context.Transport.Output, options, stats, isServer: false)
    {
        _context = context;
        _owner = owner;
        _heartbeat = heartbeat;
        Endpoint = endpoint;
        _streamCap = options.MaxConcurrentStreams;
    }

    public EndpointState Endpoint { get; }
    /// <summary>Set when the read loop ended: the pool drops the connection.</summary>
    public bool IsDead { get; private set; }
    public event Action<Http2UpstreamConnection>? Closed;

    protected override int NextLocalStreamId => Volatile.Read(ref _nextStreamId);

    /// <summary>Writes the client preface and SETTINGS (RFC 9113 §3.4) and starts reading.</summary>
    public void Start()
    {
        Output.WriteRaw(Http2Constants.ClientPreface);
        SendInitialSettings();
        _heartbeat.Register(this);
        _loop = RunLoopAsync();
    }

    private async Task RunLoopAsync()
    {
        try
        {
            await RunAsync();
        }
        finally
        {
            _heartbeat.Unregister(this);
            IsDead = true;
            Closed?.Invoke(this);
            await DisposeAsync();
            Dispose();
        }
    }

    /// <summary>Takes a stream slot if the peer's limit and ours allow; the caller then opens exactly one stream.</summary>
    public bool TryReserve()
    {
        lock (Output.SyncRoot)
        {
            if (IsClosing || IsDead || _nextStreamId > int.MaxValue - 2) return false;
            int limit = Math.Min(PeerSettings.MaxConcurrentStreams, _streamCap);
            if (ActiveStreams + _opening >= limit) return false;
            _opening++;
            return true;
        }
    }

    /// <summary>
    /// Opens a reserved stream and sends its HEADERS: the caller encodes the request fields into the
    /// returned block and then calls <see cref="EndRequestHeaders"/>, with no await in between
    /// (stream ids must reach the wire in increasing order, §5.1.1).
    /// </summary>
    public (Http2UpstreamStream Stream, IBufferWriter<byte> Block) BeginRequest()
    {
        KeepaliveBeforeNewStream();
        IBufferWriter<byte> block = Output.BeginHeaders();
        Http2UpstreamStream stream = _pool.TryPop(out Http2UpstreamStream? s) ? s : new Http2UpstreamStream();
        int id = _nextStreamId;
        _nextStreamId += 2;
        _opening--;
        stream.Start(this, id, Options.InitialStreamWindowSize, PeerSettings.InitialWindowSize, Http2HeadKind.Response);
        // BeginHeaders holds the output lock, which guards the stream table too.
        AddStreamLocked(stream);
        return (stream, block);
    }

    public void EndRequestHeaders(Http2UpstreamStream stream, bool endStream)
    {
        if (endStream) stream.EndStreamSent = true;
        Output.EndHeaders(stream.Id, endStream);
        Output.Kick();
    }

    /// <summary>Gives back a reservation that was not used (the request failed before opening its stream).</summary>
    public void Unreserve()
    {
        lock (Output.SyncRoot) _opening--;
    }

    protected override Http2Stream? AcceptStream(int streamId) => null;

    protected override void Recycle(Http2Stream stream)
    {
        var s = (Http2UpstreamStream)stream;
        s.RecycleInbound();
        lock (Output.SyncRoot)
        {
            // As many as may be open at once (up to 256: one upstream connection carries many clients' streams).
            if (_pool.Count < Math.Min(_streamCap, 256)) _pool.Push(s);
        }
    }

    protected override void OnGoAwayReceived(int lastStreamId, Http2ErrorCode code)
    {
        // Streams above last-stream-id were not processed: fail them as refused (safe to retry).
        Http2Stream[] open = RentStreams(out int n);
        for (int i = 0; i < n; i++)
        {
            if (open[i].Id > lastStreamId) ((Http2UpstreamStream)open[i]).RefuseByGoAway();
        }
        ArrayPool<Http2Stream>.Shared.Return(open, clearArray: true);
    }

    internal void Refuse(Http2UpstreamStream stream) => ResetStream(stream, Http2ErrorCode.RefusedStream);

    /// <summary>Heartbeat: keepalive PINGs (and closing on an unanswered one), response-head deadlines.</summary>
    public void OnHeartbeat(long nowMs)
    {
        if (IsDead) return;
        if (KeepaliveTick(nowMs))
        {
            // The peer did not answer in time: no new stream goes on this connection, and it is closed at
            // once without a GOAWAY (the peer is presumed gone; Envoy closes with NoFlush too).
            Stats.KeepaliveTimeout.Increment();
            Abort();
            _context.Abort(new Microsoft.AspNetCore.Connections.ConnectionAbortedException("HTTP/2 keepalive PING timed out"));
            return;
        }
        Http2Stream[] open = RentStreams(out int n);
        for (int i = 0; i < n; i++) ((Http2UpstreamStream)open[i]).CheckHeadDeadline(nowMs);
        ArrayPool<Http2Stream>.Shared.Return(open, clearArray: true);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _destroyed, 1) != 0) return;
        Abort();
        _owner.OnConnectionDestroyed();
        try
        {
            await _context.Transport.Input.CompleteAsync();
            await _context.Transport.Output.CompleteAsync();
        }
        catch (InvalidOperationException)
        {
        }
        await _context.DisposeAsync();
    }
}

/// <summary>A request stream on an upstream HTTP/2 connection; the proxy stream awaits its response head.</summary>
public sealed class Http2UpstreamStream : Http2Stream
{
    /// <summary>Set when the response head arrives or the stream fails.</summary>
    public ReusableSignal HeadSignal { get; } = new();
    /// <summary>The upstream refused the stream (REFUSED_STREAM or above a GOAWAY's last id): not processed, safe to retry.</summary>
    public bool Refused { get; private set; }

    /// <summary>The response HEADERS carried END_STREAM (a headers-only or gRPC trailers-only response). Recorded
    /// before <see cref="HeadSignal"/> is set: the waiter may run before the read loop marks the stream ended.</summary>
    public bool HeadEndedStream { get; private set; }

    /// <summary>
    /// Where response DATA may go directly while it is set (the proxy's downstream HTTP/2 stream, once the
    /// response head went out): from the read loop into the other connection's output, without the pipe.
    /// </summary>
    public IHttp2DataSink? DataSink { get; set; }

    protected internal override bool TryForwardData(in ReadOnlySequence<byte> content, bool endStream) => DataSink?.TryWriteData(content, endStream) ?? false;

    /// <summary>The response-head deadline passed before the head came (set by the connection's heartbeat).</summary>
    public bool HeadTimedOut { get; private set; }
    private long _headDeadlineMs = long.MaxValue;

    protected override void OnStart()
    {
        Refused = false;
        HeadEndedStream = false;
        HeadTimedOut = false;
        DataSink = null;
        Volatile.Write(ref _headDeadlineMs, long.MaxValue);
        HeadSignal.Reset();
    }

    /// <summary>
    /// Arms a deadline for the response head (zero or less: none). When it passes, <see cref="HeadTimedOut"/> is
    /// set and <see cref="HeadSignal"/> wakes the waiter. A field the heartbeat reads: no timer per request.
    /// </summary>
    public void ArmHeadTimeout(TimeSpan timeout) =>
        Volatile.Write(ref _headDeadlineMs, timeout > TimeSpan.Zero ? Environment.TickCount64 + (long)timeout.TotalMilliseconds : long.MaxValue);

    public void DisarmHeadTimeout() => Volatile.Write(ref _headDeadlineMs, long.MaxValue);

    internal void CheckHeadDeadline(long nowMs)
    {
        long deadline = Volatile.Read(ref _headDeadlineMs);
        if (nowMs < deadline) return;
        // Claimed once: the stream may have been disarmed (or recycled and re-armed) since it was read.
        if (Interlocked.CompareExchange(ref _headDeadlineMs, long.MaxValue, deadline) != deadline) return;
        HeadTimedOut = true;
        HeadSignal.Set();
    }

    protected internal override void OnHeadersReceived(bool endStream)
    {
        HeadEndedStream = endStream;
        HeadSignal.Set();
    }

    protected internal override void OnReset(Http2ErrorCode code)
    {
        if (code == Http2ErrorCode.RefusedStream) Refused = true;
        HeadSignal.Set();
    }

    internal void RefuseByGoAway()
    {
        Refused = true;
        ((Http2UpstreamConnection)Connection).Refuse(this);
    }

    /// <summary>The downstream gave up: cancel the upstream stream (RST_STREAM CANCEL).</summary>
    public void Cancel() => Connection.ResetStream(this, Http2ErrorCode.Cancel);

    /// <summary>Cancel from another flow that may hold a stale reference: only if this is still stream <paramref name="id"/>.</summary>
    public void Cancel(int id) => Connection.ResetStream(this, id, Http2ErrorCode.Cancel);
}

/// <summary>Takes DATA content at once (all of it, returning true) or not at all (false: it is queued as usual).</summary>
public interface IHttp2DataSink
{
    /// <param name="endStream">The data ends the stream (the sink's copy ends its own stream).</param>
    bool TryWriteData(in ReadOnlySequence<byte> data, bool endStream);
}
