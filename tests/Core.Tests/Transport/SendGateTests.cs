using Sidecar.Core.Transport.Sockets;
using Xunit;

namespace Sidecar.Core.Tests.Transport;

/// <summary>
/// The send gate's protocol, step by step on one thread, so each interleaving of "sender got EAGAIN and leaves" with
/// "loop handles the writable edge" is forced rather than hoped for. The property: after an edge that came after the
/// sender's EAGAIN, somebody sends again (the sender goes round once more, or the loop becomes the owner).
/// </summary>
public sealed class SendGateTests
{
    /// <summary>Where the loop's two steps (check the edge, then ask for a send) fall relative to the sender's leave.</summary>
    public enum EdgeTiming
    {
        CheckAndAskBeforeLeave,
        CheckBeforeLeaveAskAfter,
        CheckAndAskAfterLeave,
    }

    [Theory]
    [InlineData(EdgeTiming.CheckAndAskBeforeLeave)]
    [InlineData(EdgeTiming.CheckBeforeLeaveAskAfter)]
    [InlineData(EdgeTiming.CheckAndAskAfterLeave)]
    public void WritableEdgeAfterEagainIsNeverLost(EdgeTiming timing)
    {
        var gate = new SendGate();
        Assert.True(gate.TryEnter());
        gate.BeginPass();
        // ... send() -> EAGAIN; the kernel's writable edge fires from here on.
        bool loopSendsItself = false;
        bool wanted = false;
        if (timing != EdgeTiming.CheckAndAskAfterLeave) wanted = gate.WantsWritableEdge;
        if (timing == EdgeTiming.CheckAndAskBeforeLeave)
        {
            Assert.True(wanted, "an owner is mid-send: the edge must be passed on");
            Assert.False(gate.TryEnter()); // the owner is told to go again
        }
        int more = gate.Leave(1, blocked: true);
        if (timing == EdgeTiming.CheckBeforeLeaveAskAfter)
        {
            Assert.True(wanted);
            loopSendsItself = gate.TryEnter();
        }
        if (timing == EdgeTiming.CheckAndAskAfterLeave)
        {
            Assert.True(gate.WantsWritableEdge, "the sender left waiting: the edge is for it");
            loopSendsItself = gate.TryEnter();
        }
        Assert.True(more > 0 || loopSendsItself, $"{timing}: nobody sends after the edge (more={more}, loop owner={loopSendsItself})");
        Assert.False(more > 0 && loopSendsItself, "two owners");
        // Whoever sends drains the socket and leaves not blocked: the gate is idle again.
        if (loopSendsItself)
        {
            gate.BeginPass();
            Assert.Equal(0, gate.Leave(1, blocked: false));
        }
        else
        {
            gate.BeginPass();
            Assert.Equal(0, gate.Leave(more, blocked: false));
        }
        Assert.False(gate.WantsWritableEdge);
    }

    [Fact]
    public void IdleSocketIgnoresWritableEdges()
    {
        var gate = new SendGate();
        Assert.False(gate.WantsWritableEdge);
        Assert.True(gate.TryEnter());
        gate.BeginPass();
        Assert.Equal(0, gate.Leave(1, blocked: false));
        Assert.False(gate.WantsWritableEdge);
    }

    [Fact]
    public void RequestsDuringAPassMakeTheOwnerGoAgainOnce()
    {
        var gate = new SendGate();
        Assert.True(gate.TryEnter());
        Assert.False(gate.TryEnter());
        Assert.False(gate.TryEnter());
        gate.BeginPass();
        Assert.Equal(2, gate.Leave(1, blocked: false));
        gate.BeginPass();
        Assert.Equal(0, gate.Leave(2, blocked: false));
    }

    [Fact]
    public void AFlushWhileWaitingSendsAtOnceAndClearsTheWait()
    {
        var gate = new SendGate();
        Assert.True(gate.TryEnter());
        gate.BeginPass();
        Assert.Equal(0, gate.Leave(1, blocked: true));
        Assert.True(gate.WantsWritableEdge);
        // The application flushes more before the edge: it owns the socket and tries at once.
        Assert.True(gate.TryEnter());
        gate.BeginPass();
        Assert.Equal(0, gate.Leave(1, blocked: false));
        Assert.False(gate.WantsWritableEdge);
    }

    [Fact]
    public void CloseWaitsForTheOwnerAndThenRefusesEverySend()
    {
        var gate = new SendGate();
        Assert.True(gate.TryEnter());
        Assert.False(gate.TryClose());
        gate.BeginPass();
        Assert.Equal(0, gate.Leave(1, blocked: true));
        Assert.True(gate.TryClose()); // waiting for an edge is no reason to keep the fd open
        Assert.False(gate.TryEnter());
        Assert.False(gate.TryEnter());
        Assert.False(gate.WantsWritableEdge);
    }
}
