using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Sidecar.Core.Http2;

public abstract partial class Http2Connection
{
    // Senders wait for exactly one thing, and only that thing wakes them (a wake-up for the wrong
    // reason would loop: flush, wake, find no window, flush, ...): the stream's own window (its signal,
    // set by a stream WINDOW_UPDATE or SETTINGS), the connection window, or a congested output.
    private readonly List<Http2Stream> _connectionWindowWaiters = [];
    private readonly List<Http2Stream> _congestionWaiters = [];

    /// <summary>
    /// Sends a header block for <paramref name="stream"/>: the caller encodes fields into the returned
    /// writer with <see cref="Http2Output.Encoder"/>, then calls <see cref="EndHeaders"/> (no await between).
    /// Returns null (nothing to do) when the stream was reset meanwhile.
    /// </summary>
    public IBufferWriter<byte>? BeginHeaders(Http2Stream stream)
    {
        IBufferWriter<byte> block = Output.BeginHeaders();
        if (stream.IsReset || stream.ResetSent || Output.IsCompleted)
        {
            Output.AbortHeaders();
            return null;
        }
        return block;
    }

    public void EndHeaders(Http2Stream stream, bool endStream)
    {
        if (!endStream)
        {
            Output.EndHeaders(stream.Id, endStream: false);
            return;
        }
        // The block ends the stream: the retirement check runs under the lock the block already holds.
        stream.EndStreamSent = true;
        bool removed = false;
        int left = 0;
        try
        {
            Output.WriteHeaderBlock(stream.Id, endStream: true);
            removed = RetireIfDoneLocked(stream, out left);
        }
        finally
        {
            Output.AbortHeaders();
        }
        if (removed) AfterRemoved(left);
    }

    /// <summary>
    /// Sends <paramref name="data"/> as DATA frames as the windows allow (§6.9), waiting — without
    /// blocking a thread — for WINDOW_UPDATE or for a congested output to drain. False when the stream
    /// was reset or the connection failed: the caller stops.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> WriteDataAsync(Http2Stream stream, ReadOnlySequence<byte> data, bool endStream)
    {
        while (true)
        {
            bool wait = false;
            bool removed = false;
            int left = 0;
            lock (Output.SyncRoot)
            {
                if (stream.IsReset || stream.ResetSent || Output.IsCompleted) return false;
                long room = Math.Min(Math.Min(stream.SendWindow, _connectionSendWindow), Output.PeerMaxFrameSize);
                if (data.IsEmpty)
                {
                    if (!endStream) return true;
                    // An empty END_STREAM DATA frame needs no window.
                    stream.EndStreamSent = true;
                    Output.WriteData(stream.Id, data, endStream: true);
                }
                else if (room <= 0 || Output.IsCongested)
                {
                    List<Http2Stream>? list = stream.SendWindow <= 0 ? null
                        : _connectionSendWindow <= 0 ? _connectionWindowWaiters
                        : room <= 0 ? null : _congestionWaiters;
                    if (list is not null && !list.Contains(stream)) list.Add(stream);
                    stream.WaitingToSend = true;
                    if (stream.SendStalledSinceMs == 0) Volatile.Write(ref stream.SendStalledSinceMs, Environment.TickCount64);
                    wait = true;
                }
                else
                {
                    stream.SendStalledSinceMs = 0;
                    int n = (int)Math.Min(room, data.Length);
                    bool last = endStream && n == data.Length;
                    stream.SendWindow -= n;
                    _connectionSendWindow -= n;
                    if (last) stream.EndStreamSent = true;
                    Output.WriteData(stream.Id, data.Slice(0, n), last);
                    data = data.Slice(n);
                    if (!data.IsEmpty) continue;
                }
                if (!wait && stream.EndStreamSent) removed = RetireIfDoneLocked(stream, out left);
            }
            if (wait)
            {
                await Output.FlushAsync();
                await stream.SendSignal.WaitAsync();
                continue;
            }
            if (removed) AfterRemoved(left);
            await Output.FlushAsync();
            return true;
        }
    }

    /// <summary>
    /// Writes <paramref name="data"/> as DATA frames at once if both windows and the output take all of it, and
    /// nobody is already waiting to send on the stream (order); otherwise writes nothing and returns false. For a
    /// proxy forwarding from another connection's read loop: no wait, no await, one copy. The flush is a kick,
    /// which a read pass's batch turns into one flush per output.
    /// </summary>
    public bool TryWriteDataNow(Http2Stream stream, in ReadOnlySequence<byte> data, bool endStream)
    {
        bool removed = false;
        int left = 0;
        lock (Output.SyncRoot)
        {
            long n = data.Length;
            if (stream.IsReset || stream.ResetSent || stream.EndStreamSent || stream.WaitingToSend || Output.IsCompleted || Output.IsCongested) return false;
            if (stream.SendWindow < n || _connectionSendWindow < n) return false;
            stream.SendWindow -= n;
            _connectionSendWindow -= n;
            ReadOnlySequence<byte> rest = data;
            do
            {
                int frame = (int)Math.Min(rest.Length, Output.PeerMaxFrameSize);
                bool last = frame == rest.Length;
                Output.WriteData(stream.Id, rest.Slice(0, frame), endStream && last);
                rest = rest.Slice(frame);
            }
            while (!rest.IsEmpty);
            if (endStream)
            {
                stream.EndStreamSent = true;
                removed = RetireIfDoneLocked(stream, out left);
            }
        }
        if (removed) AfterRemoved(left);
        Output.Kick();
        return true;
    }

    /// <summary>Makes everything written so far go out.</summary>
    public Task FlushAsync() => Output.FlushAsync();

    /// <summary>
    /// Zero-window stall: the peer let a stream's window (or the connection's) sit at zero longer than
    /// the stream idle timeout while we had data for it. The stream is reset (CANCEL) so its buffers and
    /// upstream go; counted as <c>flow_control_stall_timeout</c>.
    /// </summary>
    public void ResetStalledStream(Http2Stream stream)
    {
        Stats.FlowControlStall.Increment();
        ResetStream(stream, Http2ErrorCode.Cancel);
    }

    /// <summary>Resets a stream from our side (RST_STREAM, §6.4) and fails its inbound body.</summary>
    public void ResetStream(Http2Stream stream, Http2ErrorCode code) => FailStream(stream, code, sendReset: true);

    /// <summary>
    /// Resets <paramref name="stream"/> only if it is still stream <paramref name="expectedId"/>: for
    /// callers on other threads holding a reference that may have been recycled as another stream since.
    /// </summary>
    public void ResetStream(Http2Stream stream, int expectedId, Http2ErrorCode code) => FailStream(stream, code, sendReset: true, expectedId);

    private void ResetStreamById(int streamId, Http2ErrorCode code)
    {
        Http2Stream? stream = FindStream(streamId);
        if (stream is not null)
        {
            FailStream(stream, code, sendReset: true);
            return;
        }
        Stats.TxReset.Increment();
        RememberReset(streamId);
        Output.WriteRstStream(streamId, code);
    }

    private void RememberReset(int streamId)
    {
        _resetByUs[_resetByUsNext] = streamId;
        _resetByUsNext = (_resetByUsNext + 1) % _resetByUs.Length;
    }

    private void FailStream(Http2Stream stream, Http2ErrorCode code, bool sendReset, int expectedId = 0)
    {
        bool first;
        lock (Output.SyncRoot)
        {
            if (expectedId != 0 && stream.Id != expectedId) return;
            first = !stream.IsReset && !stream.ResetSent;
            if (first)
            {
                if (sendReset)
                {
                    stream.ResetSent = true;
                    RememberReset(stream.Id);
                    Output.WriteRstStream(stream.Id, code);
                }
                else
                {
                    stream.IsReset = true;
                }
                stream.ResetCode = code;
            }
            _connectionWindowWaiters.Remove(stream);
            _congestionWaiters.Remove(stream);
        }
        if (!first) return;
        if (sendReset) Stats.TxReset.Increment();
        Output.Kick();
        // Any data still flowing in is dropped, but the connection window it used is returned.
        int unread = stream.ReceiveCredit;
        if (unread > 0) CreditConnection(unread);
        stream.IsReset = true;
        bool inboundOpen = !stream.EndStreamReceived;
        // Marked ended before the end is delivered: a consumer woken by it (inline, now) must see the stream ended.
        Volatile.Write(ref stream.EndStreamReceived, true);
        if (inboundOpen) stream.EndInboundBody(new Http2StreamResetException(code));
        stream.SendSignal.Set();
        stream.OnReset(code);
        RemoveStream(stream);
    }

    /// <summary>Consumer finished with inbound bytes: batch window credits and send WINDOW_UPDATE at half a window.</summary>
    internal void OnInboundConsumed(Http2Stream stream, int bytes)
    {
        if (bytes <= 0) return;
        Interlocked.Add(ref stream.BufferedInbound, -bytes);
        Credit(stream, bytes);
    }

    private void Credit(Http2Stream stream, int bytes)
    {
        int streamCredit = Interlocked.Add(ref stream.ReceiveCredit, bytes);
        if (!stream.EndStreamReceived && !stream.IsReset && streamCredit >= Options.InitialStreamWindowSize / 2)
        {
            int taken = Interlocked.Exchange(ref stream.ReceiveCredit, 0);
            if (taken > 0)
            {
                Interlocked.Add(ref stream.ReceiveWindow, taken);
                Output.WriteWindowUpdate(stream.Id, taken);
                Output.Kick();
            }
        }
        CreditConnection(bytes);
    }

    private void CreditConnection(int bytes)
    {
        if (bytes <= 0) return;
        int credit = Interlocked.Add(ref _connectionReceiveCredit, bytes);
        if (credit >= Options.InitialConnectionWindowSize / 2)
        {
            int taken = Interlocked.Exchange(ref _connectionReceiveCredit, 0);
            if (taken > 0)
            {
                Interlocked.Add(ref _connectionReceiveWindow, taken);
                Output.WriteWindowUpdate(0, taken);
                Output.Kick();
            }
        }
    }

    /// <summary>The connection window opened: every stream waiting on it retries.</summary>
    private void WakeConnectionWindowWaiters() => Wake(_connectionWindowWaiters);

    /// <summary>Every open stream: SETTINGS raised INITIAL_WINDOW_SIZE.</summary>
    private void WakeAllStreams()
    {
        Http2Stream[] open = RentStreams(out int n);
        for (int i = 0; i < n; i++) open[i].SendSignal.Set();
        ArrayPool<Http2Stream>.Shared.Return(open, clearArray: true);
    }

    private void Wake(List<Http2Stream> waiters)
    {
        Http2Stream[]? woken = null;
        int n;
        lock (Output.SyncRoot)
        {
            n = waiters.Count;
            if (n == 0) return;
            woken = ArrayPool<Http2Stream>.Shared.Rent(n);
            waiters.CopyTo(woken);
            waiters.Clear();
        }
        // Woken outside the lock: each sender resumes inline here and takes the lock itself.
        for (int i = 0; i < n; i++)
        {
            woken[i].WaitingToSend = false;
            woken[i].SendSignal.Set();
        }
        ArrayPool<Http2Stream>.Shared.Return(woken, clearArray: true);
    }

    /// <summary>A flush finished: senders held back by a congested output may go on if it is no longer congested.</summary>
    private void OnOutputDrained()
    {
        if (!Output.IsCongested) Wake(_congestionWaiters);
    }
}

/// <summary>The inbound body of a stream that was reset (by the peer or by us).</summary>
public sealed class Http2StreamResetException(Http2ErrorCode code) : IOException("HTTP/2 stream reset: " + code)
{
    public Http2ErrorCode Code { get; } = code;
}
