using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Sidecar.Core.Async;

namespace Sidecar.Core.Transport;

/// <summary>
/// A <see cref="Stream"/> over a connection's socket pipes, so <see cref="System.Net.Security.SslStream"/> can run on
/// the same transport as plaintext sessions (Kestrel's socket pipes stay the one I/O path). Reads copy out of the
/// pipe's buffers; writes go into the pipe and flush. Disposing it does not complete the pipes: the connection
/// that owns them does that once, whatever protocol ran on top.
/// </summary>
internal sealed class DuplexPipeStream(IDuplexPipe pipe) : Stream
{
    private readonly PipeReader _input = pipe.Input;
    private readonly PipeWriter _output = pipe.Output;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        // Fast path: bytes already buffered (TLS reads a 5-byte header then the record body).
        if (_input.TryRead(out ReadResult r))
        {
            if (TryCopy(r, destination, out int n)) return new ValueTask<int>(n);
        }
        return ReadSlowAsync(destination, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadSlowAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult r = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (TryCopy(r, destination, out int n)) return n;
        }
    }

    /// <summary>Copies what is buffered; false (nothing consumed) when the caller must wait for more.</summary>
    private bool TryCopy(in ReadResult r, Memory<byte> destination, out int copied)
    {
        ReadOnlySequence<byte> buffer = r.Buffer;
        copied = 0;
        if (!buffer.IsEmpty)
        {
            if (destination.Length == 0)
            {
                // A zero-byte read (SslStream waits this way before renting its buffer) only asks "is there data?":
                // answer without marking anything examined, or the next read would wait for bytes beyond these.
                _input.AdvanceTo(buffer.Start);
                return true;
            }
            copied = (int)Math.Min(buffer.Length, destination.Length);
            buffer.Slice(0, copied).CopyTo(destination.Span);
            _input.AdvanceTo(buffer.GetPosition(copied));
            return true;
        }
        _input.AdvanceTo(buffer.Start, buffer.End);
        // End of stream (or a cancelled read, which for a stream reader means "no more data").
        return r.IsCompleted || r.IsCanceled;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        ValueTask<FlushResult> flush = _output.WriteAsync(source, cancellationToken);
        if (flush.IsCompletedSuccessfully)
        {
            _ = flush.Result;
            return default;
        }
        return AwaitFlushAsync(flush);
    }

    private static async ValueTask AwaitFlushAsync(ValueTask<FlushResult> flush) => await flush.ConfigureAwait(false);

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask; // every write flushes

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
