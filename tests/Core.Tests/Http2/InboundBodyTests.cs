using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Sidecar.Core.Http2;
using Xunit;

namespace Sidecar.Core.Tests.Http2;

/// <summary>
/// A stream's inbound pipe is committed to only when a consumer takes its reader: until then an END_STREAM or reset is
/// only noted (no pipe lock), and a stream whose pipe nobody wrote or read is reused without resetting it. These check
/// that the consumer still sees exactly what it would have seen from an eagerly completed pipe, in every order.
/// </summary>
public sealed class InboundBodyTests
{
    private sealed class TestStream : Http2Stream
    {
        protected internal override void OnHeadersReceived(bool endStream) { }
    }

    private static TestStream Started()
    {
        var s = new TestStream();
        Restart(s);
        return s;
    }

    private static void Restart(TestStream s) => s.Start(null!, 1, 65535, 65535, Http2HeadKind.Request);

    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.ASCII.GetBytes(text));

    private static ReadResult ReadNow(PipeReader reader) => Completed(reader.ReadAsync());

    /// <summary>The result of a read that must already be complete (the pipe runs continuations inline).</summary>
    private static ReadResult Completed(ValueTask<ReadResult> read)
    {
        Assert.True(read.IsCompleted, "the read should be complete by now");
        return read.IsCompleted ? read.GetAwaiter().GetResult() : default;
    }

    [Fact]
    public void AnEndNotedBeforeTheReaderIsTakenCompletesTheReader()
    {
        TestStream s = Started();
        s.EndInboundBody(null);
        ReadResult r = ReadNow(s.InboundBody);
        Assert.True(r.IsCompleted);
        Assert.True(r.Buffer.IsEmpty);
    }

    [Fact]
    public void QueuedDataThenTheEndAreReadInOrder()
    {
        TestStream s = Started();
        s.QueueInbound(Bytes("abc"));
        s.QueueInbound(Bytes("de"));
        s.EndInboundBody(null);
        Assert.True(s.HasQueuedInbound);
        PipeReader reader = s.InboundBody;
        ReadResult r = ReadNow(reader);
        Assert.Equal("abcde", Encoding.ASCII.GetString(r.Buffer.ToArray()));
        Assert.True(r.IsCompleted);
        reader.AdvanceTo(r.Buffer.End);
    }

    [Fact]
    public void AResetBeforeTheReaderIsTakenFailsTheRead()
    {
        TestStream s = Started();
        s.EndInboundBody(new Http2StreamResetException(Http2ErrorCode.Cancel));
        Assert.Throws<Http2StreamResetException>(() => ReadNow(s.InboundBody));
    }

    [Fact]
    public void TheFirstEndWins()
    {
        TestStream s = Started();
        s.EndInboundBody(null);
        s.EndInboundBody(new Http2StreamResetException(Http2ErrorCode.Cancel));
        Assert.True(ReadNow(s.InboundBody).IsCompleted);

        TestStream t = Started();
        PipeReader reader = t.InboundBody; // taken first: the ends go to the pipe at once
        t.EndInboundBody(new Http2StreamResetException(Http2ErrorCode.Cancel));
        t.EndInboundBody(null);
        Assert.Throws<Http2StreamResetException>(() => ReadNow(reader));
    }

    [Fact]
    public void AReaderWaitingBeforeTheEndIsWokenByIt()
    {
        TestStream s = Started();
        ValueTask<ReadResult> read = s.InboundBody.ReadAsync();
        Assert.False(read.IsCompleted);
        s.EndInboundBody(null);
        Assert.True(Completed(read).IsCompleted);
    }

    [Fact]
    public async Task TheSignalWakesOnQueuedDataAndOnTheEnd()
    {
        TestStream s = Started();
        ValueTask first = s.InboundSignal.WaitAsync();
        Assert.False(first.IsCompleted);
        s.QueueInbound(Bytes("x"));
        Assert.True(first.IsCompleted);
        await first;
        ValueTask second = s.InboundSignal.WaitAsync();
        Assert.False(second.IsCompleted);
        Assert.False(s.InboundEnded);
        s.EndInboundBody(null);
        Assert.True(second.IsCompleted);
        await second;
    }

    [Fact]
    public void AStreamReusedAfterAnUntouchedOrAUsedPipeStartsWithAnOpenEmptyPipe()
    {
        TestStream s = Started();
        s.EndInboundBody(null); // bodyless: the pipe was never touched
        s.RecycleInbound();
        Restart(s);
        s.QueueInbound(Bytes("one"));
        s.EndInboundBody(null);
        PipeReader reader = s.InboundBody;
        ReadResult r = ReadNow(reader);
        Assert.Equal("one", Encoding.ASCII.GetString(r.Buffer.ToArray()));
        reader.AdvanceTo(r.Buffer.End);

        // The pipe was used: recycling must reset it, or the next use would find it completed.
        s.RecycleInbound();
        Restart(s);
        ValueTask<ReadResult> next = s.InboundBody.ReadAsync();
        Assert.False(next.IsCompleted);
        s.QueueInbound(Bytes("two"));
        ReadResult second = Completed(next);
        Assert.Equal("two", Encoding.ASCII.GetString(second.Buffer.ToArray()));
        Assert.False(second.IsCompleted);
    }

    [Fact]
    public void DataQueuedButNeverReadIsDroppedAtRecycle()
    {
        TestStream s = Started();
        s.QueueInbound(Bytes("stale"));
        s.EndInboundBody(new Http2StreamResetException(Http2ErrorCode.Cancel));
        s.RecycleInbound();
        Restart(s);
        s.EndInboundBody(null);
        ReadResult r = ReadNow(s.InboundBody);
        Assert.True(r.Buffer.IsEmpty);
        Assert.True(r.IsCompleted);
    }

    [Fact]
    public void AnEndRacingTheReaderBeingTakenIsNeverLost()
    {
        for (int i = 0; i < 2000; i++)
        {
            TestStream s = Started();
            using var go = new Barrier(2);
            PipeReader? reader = null;
            var taker = new Thread(() =>
            {
                go.SignalAndWait();
                reader = s.InboundBody;
            });
            taker.Start();
            go.SignalAndWait();
            s.EndInboundBody(null);
            taker.Join();
            ValueTask<ReadResult> read = reader!.ReadAsync();
            Assert.True(read.IsCompleted, $"iteration {i}: the end was lost");
            Assert.True(Completed(read).IsCompleted);
        }
    }
}
