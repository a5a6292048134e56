using System.IO.Pipelines;

namespace Sidecar.Core.Transport.Sockets;

/// <summary>
/// The application's end of the input pipe: the pipe's own reader, plus telling the connection when the
/// application completes it (a pipe gives the writer no other signal until its next flush).
/// </summary>
internal sealed class InputReader(EpollConnection connection, PipeReader inner) : PipeReader
{
    public override bool TryRead(out ReadResult result) => inner.TryRead(out result);
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => inner.ReadAsync(cancellationToken);
    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);
    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);
    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        inner.Complete(exception);
        connection.OnAppInputCompleted();
    }
}

/// <summary>
/// The application's end of the output pipe: writes go into the pipe's blocks; a flush publishes them and sends
/// right away on the flushing thread. Completing it sends the tail and then the FIN (shutdown(SHUT_WR)).
/// </summary>
internal sealed class OutputWriter(EpollConnection connection, PipeWriter inner) : PipeWriter
{
    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);
    public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
    public override void Advance(int bytes) => inner.Advance(bytes);
    public override void CancelPendingFlush() => inner.CancelPendingFlush();
    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;
    public override long UnflushedBytes => inner.UnflushedBytes;

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        // Publish first (the pipe may say "wait": above the pause threshold), then send, which may release that wait.
        ValueTask<FlushResult> flush = inner.FlushAsync(cancellationToken);
        connection.TrySend();
        return flush;
    }

    public override void Complete(Exception? exception = null)
    {
        inner.Complete(exception);
        connection.TrySend();
    }
}

/// <summary>Pipe settings shared by all connections of one transport configuration (built once, not per connection).</summary>
internal sealed class TransportPipeOptions
{
    public TransportPipeOptions(BlockMemoryPool pool, long maxBufferBytes, bool inlineScheduling)
    {
        Pool = pool;
        PipeScheduler readerScheduler = inlineScheduling ? PipeScheduler.Inline : PipeScheduler.ThreadPool;
        long pause = maxBufferBytes;
        long resume = maxBufferBytes / 2;
        // Input: the loop writes, the application reads (inline on the loop thread when inline scheduling is on).
        Input = new PipeOptions(pool, readerScheduler, PipeScheduler.Inline, pause, resume, pool.BlockSize, useSynchronizationContext: false);
        // Output: the application writes; a flush held by backpressure resumes where the send completed.
        Output = new PipeOptions(pool, PipeScheduler.Inline, readerScheduler, pause, resume, pool.BlockSize, useSynchronizationContext: false);
    }

    public BlockMemoryPool Pool { get; }
    public PipeOptions Input { get; }
    public PipeOptions Output { get; }
}
