using System.Buffers;
using System.IO.Pipelines;
using Sidecar.Core.Async;
using Sidecar.Core.Hpack;
using Sidecar.Core.Telemetry;

namespace Sidecar.Core.Http2;

/// <summary>
/// One HTTP/2 connection, either end (RFC 9113). The read loop (<see cref="RunAsync"/>) is the only
/// reader of the transport: it parses frames, keeps the stream table and both flow-control ledgers, and
/// hands each stream its header blocks and DATA. Streams write through <see cref="Http2Output"/>
/// from whatever flow they run on. Role-specific parts (who opens streams, what a stream does) are in
/// subclasses: the proxy's downstream connection and the upstream client connection.
/// </summary>
public abstract partial class Http2Connection : IDisposable
{
    private readonly PipeReader _input;
    private readonly HpackDecoder _decoder;
    private readonly Dictionary<int, Http2Stream> _streams = [];
    private readonly int[] _resetByUs = new int[16];
    private int _resetByUsNext;
    // Ids of streams that existed and closed lately, to tell "closed" from "skipped" (§5.1.1).
    private readonly int[] _recentlyClosed = new int[64];
    private int _recentlyClosedNext;

    protected readonly Http2ConnectionOptions Options;
    protected readonly Http2Stats Stats;
    /// <summary>The shared write side (HPACK encoder, frame writers).</summary>
    public Http2Output Output { get; }
    private Http2Settings _peer = Http2Settings.Default;
    /// <summary>The SETTINGS_MAX_FRAME_SIZE we advertise and enforce (§4.2).</summary>
    private readonly int _receiveMaxFrameSize;

    // Flow control ledgers. Send side: guarded by the output lock. Receive side: read loop, plus consumer credits (Interlocked).
    private long _connectionSendWindow = Http2Constants.DefaultWindowSize;
    private int _connectionReceiveWindow;
    private int _connectionReceiveCredit;

    // Header block in progress (HEADERS then CONTINUATION, §6.10).
    private int _continuationStreamId;
    private Http2Stream? _blockStream;
    private Http2Head? _blockTarget;
    private bool _blockEndStream;
    private bool _blockIsTrailers;
    private int _blockFrames;
    private HpackStatus _blockStatus;

    private Http2Budget _resetBudget;
    private Http2Budget _controlBudget;
    private int _consecutiveEmptyFrames;
    private int _priorityFrames;
    private int _streamsOpened;

    private long _settingsSentAtMs;
    private bool _settingsAcked = true;
    private volatile bool _closing;

    protected Http2Connection(PipeReader input, PipeWriter output, Http2ConnectionOptions options, Http2Stats stats, bool isServer)
    {
        _input = input;
        Options = options;
        Stats = stats;
        IsServer = isServer;
        _decoder = new HpackDecoder(options.HeaderTableSize, options.MaxHeaderListSize);
        Output = new Http2Output(output, new HpackEncoder());
        Output.SetDrainedCallback(OnOutputDrained);
        _connectionReceiveWindow = options.InitialConnectionWindowSize;
        _receiveMaxFrameSize = isServer ? options.MaxFrameSize : options.ClientMaxFrameSize;
        _resetBudget = new Http2Budget(options.StreamResetBurst, options.StreamResetsPerSecond);
        _controlBudget = new Http2Budget(options.ControlFrameBurst, options.ControlFramesPerSecond);
    }

    public bool IsServer { get; }
    /// <summary>Highest stream id the peer opened (server) — the last-stream-id of our GOAWAY.</summary>
    protected int LastPeerStreamId { get; private set; }
    /// <summary>True once either side sent GOAWAY or the connection failed: no new streams.</summary>
    public bool IsClosing => _closing;
    /// <summary>Open streams; read without the lock (a snapshot of a count kept under it).</summary>
    public int ActiveStreams => Volatile.Read(ref _activeStreams);
    private int _activeStreams;
    public ref readonly Http2Settings PeerSettings => ref _peer;
    protected long SettingsSentAtMs => Volatile.Read(ref _settingsSentAtMs);
    protected bool SettingsAcked => Volatile.Read(ref _settingsAcked);

    /// <summary>Writes our SETTINGS and opens the connection window (server: after the preface was read; client: after our preface).</summary>
    protected void SendInitialSettings()
    {
        Span<(Http2SettingId, uint)> s =
        [
            (Http2SettingId.MaxConcurrentStreams, (uint)Options.MaxConcurrentStreams),
            (Http2SettingId.InitialWindowSize, (uint)Options.InitialStreamWindowSize),
            (Http2SettingId.MaxFrameSize, (uint)_receiveMaxFrameSize),
            (Http2SettingId.MaxHeaderListSize, (uint)Options.MaxHeaderListSize),
            (Http2SettingId.EnablePush, 0),
            (Http2SettingId.EnableConnectProtocol, IsServer && Options.AllowConnectProtocol ? 1u : 0u),
        ];
        // A client must not send ENABLE_CONNECT_PROTOCOL (RFC 8441 §3 is a server setting); drop it there.
        if (!IsServer) s = s[..5];
        // The time first: the heartbeat (another thread) reads "not acknowledged" and then the time. In the other order
        // it could see "not acknowledged, sent at 0" — overdue by the whole uptime — and write GOAWAY(SETTINGS_TIMEOUT),
        // possibly ahead of these SETTINGS (curl: exit 52; the CI flake of Http2UpstreamFailureTests).
        Volatile.Write(ref _settingsSentAtMs, Environment.TickCount64);
        Volatile.Write(ref _settingsAcked, false);
        Output.WriteSettings(s, Options.InitialConnectionWindowSize - Http2Constants.DefaultWindowSize);
    }

    /// <summary>
    /// Reads frames until the peer closes, a connection error, or the GOAWAY drain finishes. The
    /// server's preface must already be consumed and <see cref="SendInitialSettings"/> called.
    /// </summary>
    public async Task RunAsync()
    {
        Http2ErrorCode exitCode = Http2ErrorCode.NoError;
        try
        {
            Output.Kick();
            while (true)
            {
                ReadResult r = await _input.ReadAsync();
                DrainRecycleQueue();
                ReadOnlySequence<byte> buffer = r.Buffer;
                if (!buffer.IsEmpty) NoteReceived();
                if (r.IsCanceled && _closing)
                {
                    _input.AdvanceTo(buffer.Start);
                    break;
                }
                Http2FrameError error = default;
                OutputBatch.Begin();
                try
                {
                    while (true)
                    {
                        Http2ReadStatus status = Http2FrameReader.TryRead(ref buffer, _receiveMaxFrameSize, out Http2FrameHeader header, out ReadOnlySequence<byte> payload);
                        if (status == Http2ReadStatus.Incomplete) break;
                        if (status == Http2ReadStatus.FrameTooLarge)
                        {
                            error = Http2FrameError.Connection(Http2ErrorCode.FrameSizeError, "frame larger than SETTINGS_MAX_FRAME_SIZE");
                            break;
                        }
                        error = HandleFrame(header, payload);
                        if (error.IsError && !error.IsStreamError) break;
                        if (error.IsStreamError)
                        {
                            ResetStreamById(header.StreamId, error.Code);
                            error = default;
                        }
                    }
                }
                finally
                {
                    OutputBatch.End();
                }
                _input.AdvanceTo(buffer.Start, buffer.End);
                // Streams that finished during this pass go back to the pool now, not at the next read: requests
                // handled before that read would otherwise find the pool empty and allocate (~1 % of them did).
                DrainRecycleQueue();
                if (error.IsError)
                {
                    exitCode = error.Code;
                    Stats.RxProtocolError.Increment();
                    OnConnectionError(error);
                    SendGoAway(error.Code);
                    await Output.FlushAsync();
                    await LingerAsync();
                    break;
                }
                await Output.FlushAsync();
                if (r.IsCompleted || Output.IsCompleted) break;
                if (_closing && ActiveStreams == 0) break;
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
        {
            exitCode = Http2ErrorCode.Cancel;
        }
        finally
        {
            _closing = true;
            FailAllStreams(exitCode == Http2ErrorCode.NoError ? Http2ErrorCode.Cancel : exitCode);
            await Output.FlushAsync();
            DrainRecycleQueue();
        }
    }

    /// <summary>Sends GOAWAY (once per code change) and stops new streams; existing ones finish (graceful when NO_ERROR).</summary>
    public void SendGoAway(Http2ErrorCode code)
    {
        _closing = true;
        Stats.GoAwaySent.Increment();
        Output.WriteGoAway(LastPeerStreamId, code);
        Output.Kick();
        if (code != Http2ErrorCode.NoError || ActiveStreams == 0) _input.CancelPendingRead();
    }

    /// <summary>
    /// After a connection error's GOAWAY: keep reading (and dropping) what the peer still sends for a
    /// short while, so closing with unread bytes does not make the kernel answer with a TCP RST that can
    /// overtake the GOAWAY (a "lingering close", as nghttp2 and Envoy do). Ends at the peer's EOF or after
    /// <see cref="LingerTime"/> / <see cref="LingerBytes"/>.
    /// </summary>
    private async Task LingerAsync()
    {
        using var timeout = new CancellationTokenSource(LingerTime);
        long drained = 0;
        try
        {
            while (drained < LingerBytes)
            {
                ReadResult r = await _input.ReadAsync(timeout.Token);
                drained += r.Buffer.Length;
                _input.AdvanceTo(r.Buffer.End);
                if (r.IsCompleted || timeout.IsCancellationRequested) return;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
        }
    }

    private static readonly TimeSpan LingerTime = TimeSpan.FromSeconds(1);
    private const long LingerBytes = 1 << 20;

    /// <summary>Stops the read loop without a GOAWAY (transport gone or forced shutdown).</summary>
    public void Abort()
    {
        _closing = true;
        _input.CancelPendingRead();
    }

    /// <summary>Returns the HPACK decoder's pooled buffers; call once the read loop has ended.</summary>
    public void Dispose()
    {
        _decoder.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A connection error is about to be sent; subclasses log or count it.</summary>
    protected virtual void OnConnectionError(in Http2FrameError error) { }

    /// <summary>The peer sent GOAWAY: streams above <paramref name="lastStreamId"/> were not processed (§6.8).</summary>
    protected virtual void OnGoAwayReceived(int lastStreamId, Http2ErrorCode code) { }

    /// <summary>A stream left the table and its work is done: the subclass may pool it. Always called on the read loop.</summary>
    protected abstract void Recycle(Http2Stream stream);

    /// <summary>Server: a new peer-initiated stream (null refuses it); called on the read loop. Client: never called.</summary>
    protected abstract Http2Stream? AcceptStream(int streamId);

    /// <summary>Called when the stream table became empty (drain can finish).</summary>
    protected virtual void OnIdle() { }

    private void FailAllStreams(Http2ErrorCode code)
    {
        Http2Stream[] victims = RentStreams(out int n);
        foreach (Http2Stream s in victims.AsSpan(0, n)) FailStream(s, code, sendReset: false);
        ArrayPool<Http2Stream>.Shared.Return(victims, clearArray: true);
    }

    // ---- stream table ----

    protected void AddStream(Http2Stream stream)
    {
        lock (Output.SyncRoot) AddStreamLocked(stream);
    }

    /// <summary><see cref="AddStream"/> for a caller that already holds the output lock (a client opening a stream inside its HEADERS block).</summary>
    protected void AddStreamLocked(Http2Stream stream)
    {
        _streams.Add(stream.Id, stream);
        Volatile.Write(ref stream.InTable, true);
        Volatile.Write(ref _activeStreams, _streams.Count);
        Stats.StreamsActive.Increment();
    }

    protected Http2Stream? FindStream(int id)
    {
        lock (Output.SyncRoot) return _streams.TryGetValue(id, out Http2Stream? s) ? s : null;
    }

    // The read loop's last lookup: a response's DATA follows its HEADERS, so most frames find it here without the lock.
    // Only the read loop reads or writes it; it is cleared before streams are recycled (also on the read loop), so it
    // never names an object that became another stream.
    private Http2Stream? _lastFound;

    /// <summary><see cref="FindStream"/> for the read loop: skips the table where it cannot hold the id and remembers the last stream found.</summary>
    private Http2Stream? FindStreamOnReadLoop(int id)
    {
        // A server's table holds only peer-opened streams, and the peer's ids only grow (§5.1.1): a new id is not there.
        if (IsServer && id > LastPeerStreamId) return null;
        Http2Stream? last = _lastFound;
        // Removal clears InTable under the lock, as the locked lookup would stop finding it.
        if (last is not null && last.Id == id && Volatile.Read(ref last.InTable)) return last;
        Http2Stream? found = FindStream(id);
        if (found is not null) _lastFound = found;
        return found;
    }

    /// <summary>Removes a stream whose both directions are finished; the table's reference is released once.</summary>
    private void RemoveStream(Http2Stream stream)
    {
        bool removed;
        int left;
        lock (Output.SyncRoot) removed = RemoveLocked(stream, out left);
        if (removed) AfterRemoved(left);
    }

    /// <summary>
    /// Under the output lock: takes the stream out of the table (if it is still there as itself), releases the
    /// table's reference and queues the stream for recycling when that was the last one. One lock for what would
    /// otherwise be three (check, remove, queue) on every stream's end.
    /// </summary>
    private bool RemoveLocked(Http2Stream stream, out int left)
    {
        left = _streams.Count;
        if (!_streams.TryGetValue(stream.Id, out Http2Stream? s) || !ReferenceEquals(s, stream)) return false;
        _streams.Remove(stream.Id);
        Volatile.Write(ref stream.InTable, false);
        left = _streams.Count;
        Volatile.Write(ref _activeStreams, left);
        _recentlyClosed[_recentlyClosedNext] = stream.Id;
        _recentlyClosedNext = (_recentlyClosedNext + 1) % _recentlyClosed.Length;
        if (stream.Release()) QueueRecycleLocked(stream);
        return true;
    }

    /// <summary>The part of a removal that must run outside the lock (counters, idle and drain callbacks).</summary>
    private void AfterRemoved(int left)
    {
        Stats.StreamsActive.Decrement();
        if (left == 0)
        {
            OnIdle();
            if (_closing) _input.CancelPendingRead();
        }
    }

    /// <summary>The stream's own work is finished (its task ended); releases that reference.</summary>
    public void CompleteStreamWork(Http2Stream stream)
    {
        if (stream.Release()) QueueRecycle(stream);
    }

    private void RetireIfDone(Http2Stream stream)
    {
        bool removed;
        int left;
        lock (Output.SyncRoot) removed = RetireIfDoneLocked(stream, out left);
        if (removed) AfterRemoved(left);
    }

    /// <summary>Under the output lock: removes the stream when both directions are finished; then call <see cref="AfterRemoved"/> outside it.</summary>
    private bool RetireIfDoneLocked(Http2Stream stream, out int left)
    {
        left = 0;
        bool sendDone = stream.EndStreamSent || stream.ResetSent || stream.IsReset;
        bool receiveDone = stream.EndStreamReceived || stream.IsReset;
        return sendDone && receiveDone && RemoveLocked(stream, out left);
    }

    /// <summary>Copies the open streams into a rented array (return it with clearArray); for sweeps like deadlines and GOAWAY.</summary>
    protected Http2Stream[] RentStreams(out int count)
    {
        lock (Output.SyncRoot)
        {
            count = _streams.Count;
            Http2Stream[] all = ArrayPool<Http2Stream>.Shared.Rent(Math.Max(1, count));
            _streams.Values.CopyTo(all, 0);
            return all;
        }
    }

    // Streams whose two owners let go. They are recycled by the read loop, between two passes over
    // received frames: a read loop that already looked a stream up (another thread may have reset it
    // meanwhile) must never see that object come back as a different stream. Two lists swapped under the
    // lock: the read loop takes the whole batch in one lock, and checks a count without it when there is none.
    private List<Http2Stream> _recycleQueue = [];
    private List<Http2Stream> _recycling = [];
    private int _recyclePending;

    private void QueueRecycle(Http2Stream stream)
    {
        lock (Output.SyncRoot) QueueRecycleLocked(stream);
    }

    private void QueueRecycleLocked(Http2Stream stream)
    {
        _recycleQueue.Add(stream);
        Volatile.Write(ref _recyclePending, _recycleQueue.Count);
    }

    private void DrainRecycleQueue()
    {
        while (Volatile.Read(ref _recyclePending) != 0)
        {
            List<Http2Stream> batch;
            _lastFound = null;
            lock (Output.SyncRoot)
            {
                batch = _recycleQueue;
                _recycleQueue = _recycling;
                _recycling = batch;
                Volatile.Write(ref _recyclePending, 0);
            }
            foreach (Http2Stream s in batch) Recycle(s);
            batch.Clear();
        }
    }

    private bool WasRecentlyClosed(int id)
    {
        lock (Output.SyncRoot)
        {
            foreach (int c in _recentlyClosed) if (c == id) return true;
        }
        return false;
    }

    private bool WasResetByUs(int id)
    {
        foreach (int r in _resetByUs) if (r == id) return true;
        return false;
    }
}
