using System.Buffers;
using System.IO.Pipelines;
using Sidecar.Core.Async;
using Sidecar.Core.Hpack;

namespace Sidecar.Core.Http2;

/// <summary>
/// The write side of one HTTP/2 connection, shared by every stream on it.
/// <para>
/// Frames are written synchronously under one short lock (writing is a memory copy into the
/// transport pipe), so no writer ever waits for another to finish I/O and no work moves between
/// threads. Flushing is done by one flusher at a time: a writer that finds a flush in progress only
/// marks that more bytes are there, and the flusher loops. HPACK encoding happens under the same
/// lock because the encoder's table must see header blocks in wire order (RFC 7541 §2.2).
/// </para>
/// <para>
/// Backpressure: when more than <see cref="HighWaterBytes"/> sit unflushed behind a slow peer,
/// DATA writers wait (see <see cref="IsCongested"/>) until a flush completes; control frames never wait.
/// </para>
/// </summary>
public sealed class Http2Output : IBatchedOutput
{
    /// <summary>Unflushed bytes above which DATA senders wait for the peer to read.</summary>
    public const int HighWaterBytes = 256 * 1024;

    private readonly PipeWriter _out;
    private readonly Lock _lock = new();
    private readonly HeaderBlockBuffer _block = new();
    private bool _flushing;
    private bool _flushAgain;
    private long _unflushed;
    private bool _completed;
    private Action? _onDrained;

    public Http2Output(PipeWriter output, HpackEncoder encoder)
    {
        _out = output;
        Encoder = encoder;
    }

    public HpackEncoder Encoder { get; }
    /// <summary>The peer's SETTINGS_MAX_FRAME_SIZE; frames we send are cut to it.</summary>
    public int PeerMaxFrameSize { get; set; } = Http2Constants.MinMaxFrameSize;
    /// <summary>True once the transport refused a flush (peer gone).</summary>
    public bool IsCompleted => Volatile.Read(ref _completed);
    public bool IsCongested => Volatile.Read(ref _unflushed) > HighWaterBytes;
    public Lock SyncRoot => _lock;

    /// <summary>Called (outside the lock) after a flush brought the backlog under the high-water mark.</summary>
    public void SetDrainedCallback(Action onDrained) => _onDrained = onDrained;

    public void WriteSettings(ReadOnlySpan<(Http2SettingId, uint)> settings, int connectionWindowIncrement)
    {
        lock (_lock)
        {
            Http2FrameWriter.WriteSettings(_out, settings);
            if (connectionWindowIncrement > 0) Http2FrameWriter.WriteWindowUpdate(_out, 0, connectionWindowIncrement);
            _unflushed += 9 + settings.Length * 6 + 13;
        }
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            _out.Write(bytes);
            _unflushed += bytes.Length;
        }
    }

    public void WriteSettingsAck()
    {
        lock (_lock)
        {
            Http2FrameWriter.WriteSettingsAck(_out);
            _unflushed += 9;
        }
    }

    public void WritePing(bool ack, ulong opaque)
    {
        lock (_lock)
        {
            Http2FrameWriter.WritePing(_out, ack, opaque);
            _unflushed += 17;
        }
    }

    public void WriteGoAway(int lastStreamId, Http2ErrorCode code)
    {
        lock (_lock)
        {
            Http2FrameWriter.WriteGoAway(_out, lastStreamId, code);
            _unflushed += 17;
        }
    }

    public void WriteRstStream(int streamId, Http2ErrorCode code)
    {
        lock (_lock)
        {
            Http2FrameWriter.WriteRstStream(_out, streamId, code);
            _unflushed += 13;
        }
    }

    public void WriteWindowUpdate(int streamId, int increment)
    {
        lock (_lock)
        {
            Http2FrameWriter.WriteWindowUpdate(_out, streamId, increment);
            _unflushed += 13;
        }
    }

    /// <summary>Writes one DATA frame; the caller already took the flow-control credit for it.</summary>
    public void WriteData(int streamId, in ReadOnlySequence<byte> data, bool endStream)
    {
        lock (_lock)
        {
            Http2FrameWriter.WriteData(_out, streamId, data, endStream);
            _unflushed += 9 + data.Length;
        }
    }

    /// <summary>
    /// Starts a header block: takes the lock and returns the buffer to encode fields into with
    /// <see cref="Encoder"/>. Must be followed, with no await in between, by <see cref="EndHeaders"/>.
    /// </summary>
    public IBufferWriter<byte> BeginHeaders()
    {
        _lock.Enter();
        _block.Clear();
        Encoder.BeginBlock(_block);
        return _block;
    }

    /// <summary>Frames the encoded block as HEADERS + CONTINUATION and releases the lock.</summary>
    public void EndHeaders(int streamId, bool endStream)
    {
        try
        {
            WriteHeaderBlock(streamId, endStream);
        }
        finally
        {
            _lock.Exit();
        }
    }

    /// <summary>
    /// Frames the encoded block and keeps the lock, for a caller with more to do under it (retiring the stream the
    /// block ended); it then releases the lock with <see cref="AbortHeaders"/>.
    /// </summary>
    internal void WriteHeaderBlock(int streamId, bool endStream)
    {
        ReadOnlySpan<byte> block = _block.WrittenSpan;
        Http2FrameWriter.WriteHeaderBlock(_out, streamId, block, endStream, PeerMaxFrameSize);
        _unflushed += block.Length + 9 * (1 + block.Length / PeerMaxFrameSize);
    }

    /// <summary>Releases the lock taken by <see cref="BeginHeaders"/> without framing more (after <see cref="WriteHeaderBlock"/>, or to abandon a
    /// block: encoder state is then out of sync and the caller must close the connection).</summary>
    public void AbortHeaders() => _lock.Exit();

    /// <summary>
    /// Makes sure what was written reaches the transport. Returns at once when another flush is
    /// running (that flusher picks these bytes up); otherwise flushes until nothing is left.
    /// </summary>
    public Task FlushAsync()
    {
        if (OutputBatch.IsOpen && OutputBatch.TryDefer(this)) return Task.CompletedTask;
        lock (_lock)
        {
            if (_flushing)
            {
                _flushAgain = true;
                return Task.CompletedTask;
            }
            _flushing = true;
        }
        return FlushLoopAsync();
    }

    // ---- flush batching (see OutputBatch) ----

    void IBatchedOutput.FlushDeferred() => Kick();

    /// <summary>Starts a flush nobody waits for (control frames, window updates).</summary>
    public void Kick() => _ = FlushAsync();

    // A Task, not a pooled ValueTask: most flushes complete synchronously (the cached completed Task,
    // no allocation), and fire-and-forget callers (Kick) may drop it safely.
    private async Task FlushLoopAsync()
    {
        while (true)
        {
            ValueTask<FlushResult> pending;
            lock (_lock)
            {
                _flushAgain = false;
                _unflushed = 0;
                // The commit half of a flush touches the pipe's write head, so it runs under our lock;
                // the wait for the peer to read (backpressure) does not.
                pending = _out.FlushAsync();
            }
            bool failed = false;
            try
            {
                FlushResult r = await pending;
                failed = r.IsCompleted || r.IsCanceled;
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
            {
                failed = true;
            }
            if (failed) Volatile.Write(ref _completed, true);
            lock (_lock)
            {
                if (!_flushAgain || failed)
                {
                    _flushing = false;
                    break;
                }
            }
        }
        _onDrained?.Invoke();
    }

    /// <summary>Completes the transport's writer once the connection is finished.</summary>
    public void Complete()
    {
        lock (_lock) Volatile.Write(ref _completed, true);
    }

    /// <summary>A reusable growable buffer for one header block; kept per connection.</summary>
    private sealed class HeaderBlockBuffer : IBufferWriter<byte>
    {
        private byte[] _buffer = new byte[4096];
        private int _written;

        public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);
        public void Clear() => _written = 0;
        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsMemory(_written);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsSpan(_written);
        }

        private void Ensure(int sizeHint)
        {
            if (_buffer.Length - _written >= Math.Max(sizeHint, 1)) return;
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _written + sizeHint));
        }
    }
}
