using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Sidecar.Native.Sockets;

namespace Sidecar.Core.Transport.Sockets;

/// <summary>
/// The send side. A flush sends on the flushing thread at once (no hand-off to a send loop); if the kernel buffer
/// is full (EAGAIN or a short write) the rest waits in the pipe for the next writable edge, which the loop thread
/// turns into another send. Who may call send: only the thread that owns <see cref="_sendState"/> (it went from 0 to
/// 1); others just bump the counter and the owner sends again before letting go. The loop closes the fd only after
/// taking that counter to a large negative value, so no send can run on a closed (or reused) fd number.
/// </summary>
internal sealed unsafe partial class EpollConnection
{
    private const int MaxIov = 64;
    private const int ClosedSentinel = int.MinValue / 2;

    private int _sendState;
    private volatile bool _waitingWritable;
    private volatile bool _closeRequested;
    private bool _shutdownSent; // send owner only

    private bool SendMayBePending => _waitingWritable || Volatile.Read(ref _sendState) != 0;

    /// <summary>Sends what Output holds, from the calling thread, unless another thread is already doing so.</summary>
    internal void TrySend()
    {
        if (Interlocked.Increment(ref _sendState) != 1) return;
        int requests = 1;
        while (true)
        {
            SendPending();
            int left = Interlocked.Add(ref _sendState, -requests);
            if (left == 0) break;
            requests = left;
        }
        if (_closeRequested) Post(_aborted ? WorkAbort : WorkMaybeClose);
    }

    /// <summary>Loop thread: stops all future sends; false if a sender is active (it re-posts the close when done).</summary>
    private bool TryTakeSendForClose() => Interlocked.CompareExchange(ref _sendState, ClosedSentinel, 0) == 0;

    private void SendPending()
    {
        if (_outputFinished) return;
        _waitingWritable = false;
        PipeReader reader = _output.Reader;
        while (reader.TryRead(out ReadResult result))
        {
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.IsEmpty)
            {
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted) FinishOutput(0);
                return;
            }
            nuint offered;
            nint sent = buffer.IsSingleSegment ? SendOne(buffer.First, out offered) : SendMany(buffer, out offered);
            if (sent < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (errno == EpollInterop.EAgain)
                {
                    _waitingWritable = true;
                    return;
                }
                if (errno == EpollInterop.EIntr) continue;
                FinishOutput(errno);
                return;
            }
            reader.AdvanceTo(buffer.GetPosition(sent));
            if ((nuint)sent < offered)
            {
                // The kernel took less than it was offered: its buffer is full, and it reports the next writable edge.
                // (Fewer bytes offered than the pipe holds — the iovec limit, a segment from outside our pool — is not
                // that: the loop goes on, since no edge would come for a socket that never filled.)
                _waitingWritable = true;
                return;
            }
            // All sent: the next TryRead finds more, or the completion (then the FIN goes after the last byte).
        }
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
