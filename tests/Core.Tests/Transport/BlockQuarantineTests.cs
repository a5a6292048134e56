using System.IO.Pipelines;
using Sidecar.Core.Transport.Sockets;
using Xunit;

namespace Sidecar.Core.Tests.Transport;

/// <summary>The pool's quarantine mode finds writes into memory a pipe already gave back (the diagnostic must be able to fire).</summary>
public sealed class BlockQuarantineTests
{
    [Fact]
    public async Task A_write_through_a_span_taken_before_the_pipe_completed_is_reported()
    {
        var pool = new BlockMemoryPool(quarantine: true);
        var pipe = new Pipe(new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.Inline, useSynchronizationContext: false));
        Memory<byte> stale = pipe.Writer.GetMemory(16);
        pipe.Reader.Complete();
        pipe.Writer.Complete(); // both ends done: the block goes back to the pool
        stale.Span[..4].Fill(0x07); // a writer that still held the memory
        await Task.Delay(150);
        pool.Rent().Dispose(); // a rent checks what left quarantine
        Assert.Equal(1, pool.WritesAfterReturn);
    }

    [Fact]
    public async Task Blocks_given_back_untouched_are_reused_without_a_report()
    {
        var pool = new BlockMemoryPool(quarantine: true);
        var pipe = new Pipe(new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.Inline, useSynchronizationContext: false));
        pipe.Writer.GetMemory(16).Span[..4].Fill(0x07);
        pipe.Writer.Advance(4);
        await pipe.Writer.FlushAsync();
        pipe.Reader.Complete();
        pipe.Writer.Complete();
        await Task.Delay(150);
        pool.Rent().Dispose();
        Assert.Equal(0, pool.WritesAfterReturn);
    }
}
