using System.IO.Pipelines;
using Sidecar.Core.Async;
using Sidecar.Core.Hpack;
using Sidecar.Core.Http2;
using Sidecar.Core.Transport.Sockets;
using Xunit;

namespace Sidecar.Core.Tests.Async;

/// <summary>
/// Flushes noted inside a batch happen once per output at the outermost end; outside a batch, at once. And the event
/// loop runs one batch per epoll batch, so two handlers of the same batch writing to one HTTP/2 connection cost one
/// flush (one send) between them.
/// </summary>
public sealed class OutputBatchTests
{
    [Fact]
    public void FlushesEachDeferredOutputOnceAtTheOutermostEnd()
    {
        var a = new CountingOutput();
        var b = new CountingOutput();
        OutputBatch.Begin();
        a.Flush();
        OutputBatch.Begin();
        a.Flush();
        b.Flush();
        OutputBatch.End();
        Assert.Equal(0, a.Flushes + b.Flushes); // the inner end is not the outermost
        a.Flush();
        OutputBatch.End();
        Assert.Equal(1, a.Flushes);
        Assert.Equal(1, b.Flushes);
        Assert.False(OutputBatch.IsOpen);

        a.Flush(); // no batch: at once
        Assert.Equal(2, a.Flushes);
    }

    [Fact]
    public void AnHttp2OutputNotedByAnotherThreadsBatchIsStillFlushedByThisOne()
    {
        // An HTTP/2 upstream connection is shared by streams of downstreams on different event loops: each loop's batch
        // must flush what it wrote, whatever the other loop's batch has noted (it may have flushed already, or not yet).
        var pipe = new Pipe();
        var writer = new FlushCountingWriter(pipe.Writer);
        var shared = new Http2Output(writer, new HpackEncoder());
        OutputBatch.Begin();
        shared.WritePing(ack: false, 1);
        _ = shared.FlushAsync(); // noted by this thread's batch
        var other = new Thread(() =>
        {
            OutputBatch.Begin();
            shared.WritePing(ack: false, 2);
            _ = shared.FlushAsync();
            OutputBatch.End();
        });
        other.Start();
        Assert.True(other.Join(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, Volatile.Read(ref writer.Flushes)); // the other thread's batch flushed both pings
        OutputBatch.End();
        Assert.Equal(2, writer.Flushes);
    }

    [Fact]
    public void AFullBatchMakesTheCallerFlushNow()
    {
        var outputs = new CountingOutput[20];
        OutputBatch.Begin();
        for (int i = 0; i < outputs.Length; i++)
        {
            outputs[i] = new CountingOutput();
            outputs[i].Flush();
        }
        int flushedEarly = outputs.Count(o => o.Flushes == 1);
        OutputBatch.End();
        Assert.Equal(4, flushedEarly); // room for 16
        Assert.All(outputs, o => Assert.Equal(1, o.Flushes));
    }

    [Fact]
    public void AnOutputDeferredWhileTheEndFlushesIsFlushedToo()
    {
        var later = new CountingOutput();
        var first = new CountingOutput { OnFlush = () => { OutputBatch.Begin(); later.Flush(); OutputBatch.End(); } };
        OutputBatch.Begin();
        first.Flush();
        OutputBatch.End();
        Assert.Equal(1, first.Flushes);
        Assert.Equal(1, later.Flushes);
    }

    [Fact]
    public async Task TwoHandlersOfOneEpollBatchFlushAnHttp2OutputOnce()
    {
        var pipe = new Pipe();
        var writer = new FlushCountingWriter(pipe.Writer);
        var output = new Http2Output(writer, new HpackEncoder());
        using var loop = new EpollLoop("output-batch-test");
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new PostedWork(() =>
        {
            output.WritePing(ack: false, 2);
            _ = output.FlushAsync();
            done.SetResult();
        });
        // Posted from the loop thread, the second handler runs in the same drain, hence the same batch.
        var first = new PostedWork(() =>
        {
            output.WritePing(ack: false, 1);
            _ = output.FlushAsync();
            loop.Post(second);
        });
        loop.Post(first);
        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // The batch's end runs right after the drain; wait until the pipe holds both frames.
        ReadResult r = await pipe.Reader.ReadAtLeastAsync(34).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(34, r.Buffer.Length);
        Assert.Equal(1, writer.Flushes);
    }

    private sealed class CountingOutput : IBatchedOutput
    {
        public int Flushes;
        public Action? OnFlush;

        public void Flush()
        {
            if (OutputBatch.IsOpen && OutputBatch.TryDefer(this)) return;
            FlushNow();
        }

        void IBatchedOutput.FlushDeferred() => FlushNow();

        private void FlushNow()
        {
            Flushes++;
            OnFlush?.Invoke();
        }
    }

    private sealed class PostedWork(Action work) : EpollHandler
    {
        internal override void OnEvents(uint events) { }
        internal override void OnPosted() => work();
    }

    private sealed class FlushCountingWriter(PipeWriter inner) : PipeWriter
    {
        public int Flushes;
        public override void Advance(int bytes) => inner.Advance(bytes);
        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);
        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
        public override void CancelPendingFlush() => inner.CancelPendingFlush();
        public override void Complete(Exception? exception = null) => inner.Complete(exception);
        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Flushes);
            return inner.FlushAsync(cancellationToken);
        }
    }
}
