using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Sidecar.Native.Sockets;

namespace Sidecar.Core.Transport.Sockets;

/// <summary>
/// The send side. A flush sends on the flushing thread at once (no hand-off to a send loop); if the kernel buffer
/// is full (EAGAIN or a short write) the rest waits in the pipe for the next writable edge, which the loop thread
/// turns into another send. Who may call send, and whether an edge is awaited, is one atomic word (<see cref="SendGate"/>):
/// the first requester owns the socket, others just ask it to go again. The loop closes the fd only after closing
/// that gate, so no send can run on a closed (or reused) fd number.
/// </summary>
internal sealed unsafe partial class EpollConnection
{
    private const int MaxIov = 64;

    private SendGate _sendGate;
    private volatile bool _closeRequested;
    private bool _shutdownSent; // send owner only

    /// <summary>Loop thread, on a writable (or error) edge: a send is in progress or waits for exactly this edge.</summary>
    private bool SendMayBePending => _sendGate.WantsWritableEdge;

    /// <summary>Sends what Output holds, from the calling thread, unless another thread is already doing so.</summary>
    internal void TrySend()
    {
        if (!_sendGate.TryEnter()) return;
        int requests = 1;
        while (true)
        {
            _sendGate.BeginPass();
            bool blocked = SendPending();
            // One atomic step releases the socket and (if blocked) says "waiting for writable": see SendGate.
            int more = _sendGate.Leave(requests, blocked);
            if (more == 0) break;
            requests = more;
        }
        if (_closeRequested) Post(_aborted ? WorkAbort : WorkMaybeClose);
    }

    /// <summary>Loop thread: stops all future sends; false if a sender is active (it re-posts the close when done).</summary>
    private bool TryTakeSendForClose() => _sendGate.TryClose();

    /// <summary>Sends until the pipe is empty or the kernel is full; true if full (the next writable edge resumes).</summary>
    private bool SendPending()
    {
        if (_outputFinished) return false;
        PipeReader reader = _output.Reader;
        while (reader.TryRead(out ReadResult result))
        {
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.IsEmpty)
            {
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted) FinishOutput(0);
                return false;
            }
            nuint offered;
            nint sent = buffer.IsSingleSegment ? SendOne(buffer.First, out offered) : SendMany(buffer, out offered);
            if (sent < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                // Nothing consumed and nothing examined: a pipe counts only unexamined bytes as readable, so marking
                // the buffer examined here made the next TryRead (on the writable edge) report nothing until the
                // application flushed again. At the end of a body it never does: the tail stayed in the pipe (the
                // stall of E2E Upload_100MB, ~3 MiB held with both sockets idle).
                reader.AdvanceTo(buffer.Start);
                if (errno == EpollInterop.EAgain) return true;
                if (errno == EpollInterop.EIntr) continue;
                FinishOutput(errno);
                return false;
            }
            reader.AdvanceTo(buffer.GetPosition(sent));
            if ((nuint)sent < offered)
            {
                // The kernel took less than it was offered: its buffer is full, and it reports the next writable edge.
                // (Fewer bytes offered than the pipe holds — the iovec limit, a segment from outside our pool — is not
                // that: the loop goes on, since no edge would come for a socket that never filled.)
                return true;
            }
            // All sent: the next TryRead finds more, or the completion (then the FIN goes after the last byte).
        }
        return false;
    }

    /// <summary>Output is over: the application completed it (FIN after the last byte) or the peer can take no more.</summary>
    private void FinishOutput(int errno)
    {
        if (errno == 0 && !_shutdownSent)
        {
            _shutdownSent = true;
            EpollInterop.Shutdown(_fd, EpollInterop.ShutWr);
        }
        // A failed send ends Output for the application: its next flush reports IsCompleted.
        _output.Reader.Complete(errno == 0 ? null : new ConnectionResetException(new System.Net.Sockets.SocketException(errno).Message));
        _outputFinished = true;
        Post(errno == 0 ? WorkMaybeClose : WorkAbortAfterSendError());
    }

    /// <summary>A send error (EPIPE, ECONNRESET) ends the connection as Kestrel does; the input side sees a reset.</summary>
    private int WorkAbortAfterSendError()
    {
        _abortReason ??= new ConnectionAbortedException("send failed");
        _aborted = true;
        return WorkAbort;
    }

    private nint SendOne(ReadOnlyMemory<byte> segment, out nuint offered)
    {
        offered = (nuint)segment.Length;
        fixed (byte* p = segment.Span) return EpollInterop.Send(_fd, p, offered, EpollInterop.MsgNosignal);
    }

    /// <summary>One sendmsg for up to <see cref="MaxIov"/> segments (writev with MSG_NOSIGNAL).</summary>
    private nint SendMany(in ReadOnlySequence<byte> buffer, out nuint offered)
    {
        EpollInterop.IoVec* iov = stackalloc EpollInterop.IoVec[MaxIov];
        int count = 0;
        offered = 0;
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            if (segment.IsEmpty) continue;
            byte* p = BlockMemoryPool.TryGetPinnedPointer(segment);
            if (p is null)
            {
                // Memory from outside our pinned pool: send it on its own, pinned for the call.
                if (count == 0) return SendOne(segment, out offered);
                break;
            }
            iov[count].Base = p;
            iov[count].Length = (nuint)segment.Length;
            offered += (nuint)segment.Length;
            if (++count == MaxIov) break;
        }
        EpollInterop.MsgHdr msg = default;
        msg.Iov = iov;
        msg.IovLength = (nuint)count;
        return EpollInterop.SendMsg(_fd, &msg, EpollInterop.MsgNosignal);
    }
}
