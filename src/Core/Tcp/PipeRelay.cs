using System.Buffers;
using System.IO.Pipelines;

namespace Sidecar.Core.Tcp;

/// <summary>Copies one pipe into another until end of stream, with backpressure (awaited flush per read).</summary>
public static class PipeRelay
{
    public static async Task CopyAsync(PipeReader from, PipeWriter to, Action<long>? onBytes = null)
    {
        while (true)
        {
            ReadResult r = await from.ReadAsync().ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = r.Buffer;
            foreach (ReadOnlyMemory<byte> segment in buffer) to.Write(segment.Span);
            onBytes?.Invoke(buffer.Length);
            from.AdvanceTo(buffer.End);
            FlushResult f = await to.FlushAsync().ConfigureAwait(false);
            if (r.IsCompleted || r.IsCanceled || f.IsCompleted) break;
        }
    }
}
