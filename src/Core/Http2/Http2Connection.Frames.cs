using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Sidecar.Core.Hpack;

namespace Sidecar.Core.Http2;

public abstract partial class Http2Connection
{
    /// <summary>Dispatches one validated-size frame; returns a connection or stream error, or none.</summary>
    private Http2FrameError HandleFrame(in Http2FrameHeader h, in ReadOnlySequence<byte> payload)
    {
        // §6.10: once a header block started, only its CONTINUATION frames may follow.
        if (_continuationStreamId != 0 && (h.Type != Http2FrameType.Continuation || h.StreamId != _continuationStreamId))
            return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "header block interrupted before END_HEADERS");

        Http2FrameError invalid = Http2FrameReader.Validate(h, payload);
        if (invalid.IsError) return invalid;

        switch (h.Type)
        {
            case Http2FrameType.Data: return OnData(h, payload);
            case Http2FrameType.Headers: return OnHeaders(h, payload);
            case Http2FrameType.Continuation: return OnContinuation(h, payload);
            case Http2FrameType.Priority: return OnPriority(h, payload);
            case Http2FrameType.RstStream: return OnRstStream(h, payload);
            case Http2FrameType.Settings: return OnSettings(h, payload);
            case Http2FrameType.PushPromise:
                // §8.4: we send SETTINGS_ENABLE_PUSH = 0, and a client never receives it as a server.
                return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "PUSH_PROMISE not allowed");
            case Http2FrameType.Ping: return OnPing(h, payload);
            case Http2FrameType.GoAway: return OnGoAway(payload);
            case Http2FrameType.WindowUpdate: return OnWindowUpdate(h, payload);
            default:
                // §5.5: unknown frame types are ignored.
                return default;
        }
    }

    /// <summary>An id the peer could not have used yet (§5.1 "idle"): frames other than HEADERS/PRIORITY on it are connection errors.</summary>
    private bool IsIdle(int streamId) => IsServer
        ? (streamId & 1) == 1 && streamId > LastPeerStreamId
        : (streamId & 1) == 1 && streamId >= NextLocalStreamId;

    /// <summary>Client role: the next id we would open; server role: unused.</summary>
    protected virtual int NextLocalStreamId => int.MaxValue;

    private Http2FrameError OnData(in Http2FrameHeader h, in ReadOnlySequence<byte> payload)
    {
        // §6.9.1: every DATA byte (padding included) counts against the connection window, whatever the stream's state.
        _connectionReceiveWindow -= h.Length;
        if (_connectionReceiveWindow < 0) return Http2FrameError.Connection(Http2ErrorCode.FlowControlError, "connection receive window exceeded");
        Http2Stream? stream = FindStreamOnReadLoop(h.StreamId);
        if (stream is null)
        {
            CreditConnection(h.Length);
            if (IsIdle(h.StreamId)) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "DATA on an idle stream");
            // Frames we caused to be in flight (we reset the stream) are ignored; anything else on a
            // closed stream is a STREAM_CLOSED connection error (§5.1 "closed").
            if (WasResetByUs(h.StreamId)) return default;
            return Http2FrameError.Connection(Http2ErrorCode.StreamClosed, "DATA on a closed stream");
        }
        if (stream.EndStreamReceived)
        {
            CreditConnection(h.Length);
            return Http2FrameError.Stream(Http2ErrorCode.StreamClosed, "DATA after END_STREAM");
        }
        if (!stream.HeadReceived)
        {
            CreditConnection(h.Length);
            return Http2FrameError.Stream(Http2ErrorCode.ProtocolError, "DATA before HEADERS");
        }
        stream.ReceiveWindow -= h.Length;
        if (stream.ReceiveWindow < 0)
        {
            CreditConnection(h.Length);
            return Http2FrameError.Stream(Http2ErrorCode.FlowControlError, "stream receive window exceeded");
        }
        ReadOnlySequence<byte> content = Http2FrameReader.DataContent(h, payload);
        bool endStream = h.HasFlag(Http2Flags.EndStream);
        // Padding is never seen by the consumer: give its window back now.
        int padding = h.Length - (int)content.Length;
        if (padding > 0) Credit(stream, padding);
        if (content.IsEmpty && !endStream)
        {
            // An empty DATA frame carries nothing; a run of them is a CPU flood (Envoy: inbound_empty_frames_flood).
            if (++_consecutiveEmptyFrames > Options.MaxConsecutiveEmptyFrames)
            {
                Stats.InboundEmptyFramesFlood.Increment();
                return Http2FrameError.Connection(Http2ErrorCode.EnhanceYourCalm, "too many empty DATA frames");
            }
        }
        else
        {
            _consecutiveEmptyFrames = 0;
        }
        stream.InboundDataBytes += content.Length;
        // §8.1.1: DATA beyond content-length makes the request malformed.
        if (stream.Head.ContentLength >= 0 && stream.InboundDataBytes > stream.Head.ContentLength)
        {
            Stats.RxMessagingError.Increment();
            return Http2FrameError.Stream(Http2ErrorCode.ProtocolError, "DATA exceeds content-length");
        }
        if ((!content.IsEmpty || endStream) && Volatile.Read(ref stream.BufferedInbound) == 0 && stream.TryForwardData(content, endStream))
        {
            // Passed on without the pipe: the window is returned as if a consumer had read it.
            if (!content.IsEmpty) Credit(stream, (int)content.Length);
        }
        else if (!content.IsEmpty)
        {
            stream.QueueInbound(content);
        }
        if (endStream) return EndInbound(stream);
        return default;
    }

    private Http2FrameError EndInbound(Http2Stream stream)
    {
        // §8.1.1: a HEAD response or a 304 advertises the length of a body it never carries (RFC 9110 §8.6).
        bool noContent = stream.BodylessResponseExpected || (!IsServer && stream.Head.StatusCode == 304);
        if (stream.Head.ContentLength >= 0 && stream.InboundDataBytes != stream.Head.ContentLength && !(noContent && stream.InboundDataBytes == 0))
        {
            Stats.RxMessagingError.Increment();
            return Http2FrameError.Stream(Http2ErrorCode.ProtocolError, "body shorter than content-length");
        }
        Volatile.Write(ref stream.EndStreamReceived, true);
        stream.EndInboundBody(null);
        RetireIfDone(stream);
        return default;
    }

    private Http2FrameError OnHeaders(in Http2FrameHeader h, in ReadOnlySequence<byte> payload)
    {
        ReadOnlySequence<byte> fragment = Http2FrameReader.HeadersFragment(h, payload, out int dependsOn);
        bool endHeaders = h.HasFlag(Http2Flags.EndHeaders);
        bool endStream = h.HasFlag(Http2Flags.EndStream);
        Http2Stream? stream = FindStreamOnReadLoop(h.StreamId);
        Http2Head? target;
        bool trailers = false;
        Http2FrameError pending = default;
        if (stream is not null)
        {
            if (stream.EndStreamReceived) pending = Http2FrameError.Stream(Http2ErrorCode.StreamClosed, "HEADERS after END_STREAM");
            else if (stream.HeadReceived)
            {
                // §8.1: a second block is trailers, which must end the stream.
                if (!endStream) pending = Http2FrameError.Stream(Http2ErrorCode.ProtocolError, "trailers without END_STREAM");
                trailers = true;
            }
            target = pending.IsError ? null : trailers ? stream.Trailers : stream.Head;
        }
        else if (IsServer)
        {
            if ((h.StreamId & 1) == 0) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "client opened an even stream id");
            if (h.StreamId <= LastPeerStreamId)
            {
                // §5.1: a closed stream cannot be reopened.
                // §5.1.1: an id below one already used was either closed (STREAM_CLOSED) or skipped, which
                // closed it implicitly without it ever being used: reusing it is a PROTOCOL_ERROR.
                if (WasResetByUs(h.StreamId)) return StartDiscardedBlock(h, fragment, endHeaders);
                return WasRecentlyClosed(h.StreamId)
                    ? Http2FrameError.Connection(Http2ErrorCode.StreamClosed, "HEADERS on a closed stream")
                    : Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "stream id lower than one already used");
            }
            LastPeerStreamId = h.StreamId;
            _priorityFrames = 0;
            _streamsOpened++;
            if (dependsOn == h.StreamId) pending = Http2FrameError.Stream(Http2ErrorCode.ProtocolError, "stream depends on itself");
            else if (_closing) pending = Http2FrameError.Stream(Http2ErrorCode.RefusedStream, "connection is going away");
            else if (ActiveStreams >= Options.MaxConcurrentStreams)
            {
                // §5.1.2: over our advertised limit — refused, so the client may retry it elsewhere.
                Stats.StreamRefusedErrors.Increment();
                pending = Http2FrameError.Stream(Http2ErrorCode.RefusedStream, "SETTINGS_MAX_CONCURRENT_STREAMS exceeded");
            }
            if (!pending.IsError)
            {
                stream = AcceptStream(h.StreamId);
                if (stream is null) pending = Http2FrameError.Stream(Http2ErrorCode.RefusedStream, "stream refused");
                else AddStream(stream);
            }
            target = stream?.Head;
        }
        else
        {
            if (IsIdle(h.StreamId) || (h.StreamId & 1) == 0) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "HEADERS on a stream we did not open");
            target = null;
            if (!WasResetByUs(h.StreamId)) pending = Http2FrameError.Stream(Http2ErrorCode.StreamClosed, "HEADERS on a closed stream");
        }
        if (stream is not null && dependsOn == h.StreamId && !pending.IsError)
            pending = Http2FrameError.Stream(Http2ErrorCode.ProtocolError, "stream depends on itself");

        _blockStream = pending.IsError ? null : stream;
        _blockTarget = pending.IsError ? null : target;
        _blockEndStream = endStream;
        _blockIsTrailers = trailers;
        _blockFrames = 1;
        _blockStatus = HpackStatus.Ok;
        Http2FrameError decode = DecodeFragment(fragment, endHeaders, h.StreamId);
        if (decode.IsError) return decode;
        if (pending.IsError)
        {
            // The block was still decoded above so the HPACK table stays in step with the peer's (RFC 7541 §2.2).
            if (stream is not null && !endHeaders) _blockStream = null;
            return pending;
        }
        return default;
    }

    private Http2FrameError StartDiscardedBlock(in Http2FrameHeader h, in ReadOnlySequence<byte> fragment, bool endHeaders)
    {
        _blockStream = null;
        _blockTarget = null;
        _blockFrames = 1;
        _blockStatus = HpackStatus.Ok;
        return DecodeFragment(fragment, endHeaders, h.StreamId);
    }

    private Http2FrameError OnContinuation(in Http2FrameHeader h, in ReadOnlySequence<byte> payload)
    {
        if (_continuationStreamId == 0)
        {
            // §6.10: CONTINUATION without a preceding unfinished block.
            return IsIdle(h.StreamId)
                ? Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "CONTINUATION on an idle stream")
                : Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "CONTINUATION without HEADERS");
        }
        // CONTINUATION flood (2024): a block of endless small frames is cut off before it costs memory or CPU.
        if (++_blockFrames > Options.MaxHeaderFramesPerBlock || (payload.IsEmpty && !h.HasFlag(Http2Flags.EndHeaders) && ++_consecutiveEmptyFrames > Options.MaxConsecutiveEmptyFrames))
        {
            Stats.TooManyHeaderFrames.Increment();
            return Http2FrameError.Connection(Http2ErrorCode.EnhanceYourCalm, "too many CONTINUATION frames");
        }
        return DecodeFragment(payload, h.HasFlag(Http2Flags.EndHeaders), h.StreamId);
    }

    private Http2FrameError DecodeFragment(in ReadOnlySequence<byte> fragment, bool endHeaders, int streamId)
    {
        IHpackHeaderSink sink = (IHpackHeaderSink?)_blockTarget ?? DiscardSink.Instance;
        HpackStatus status = _decoder.Decode(fragment, endHeaders, sink);
        if (status == HpackStatus.CompressionError)
            return Http2FrameError.Connection(Http2ErrorCode.CompressionError, "HPACK decoding failed");
        if (status == HpackStatus.HeaderListTooLarge) _blockStatus = status;
        if (!endHeaders)
        {
            _continuationStreamId = streamId;
            return default;
        }
        _continuationStreamId = 0;
        Http2Stream? stream = _blockStream;
        Http2Head? head = _blockTarget;
        _blockStream = null;
        _blockTarget = null;
        if (stream is null || head is null) return default;
        if (_blockStatus == HpackStatus.HeaderListTooLarge)
        {
            // HPACK bomb or oversized headers: the table is in sync, only this stream fails.
            Stats.HeaderOverflow.Increment();
            return OnHeaderListTooLarge(stream);
        }
        if (!head.Complete(IsServer && Options.AllowConnectProtocol))
        {
            Stats.RxMessagingError.Increment();
            return Http2FrameError.Stream(Http2ErrorCode.ProtocolError, "malformed header block");
        }
        if (_blockIsTrailers)
        {
            Stats.Trailers.Increment();
            stream.HasTrailers = true;
            Http2FrameError e = EndInbound(stream);
            if (e.IsError) return e;
            stream.OnTrailersReceived();
            return default;
        }
        if (!IsServer && head.StatusCode is >= 100 and < 200 && head.StatusCode != 101)
        {
            // §8.1: informational responses precede the final one; a proxy drops those it does not forward.
            if (_blockEndStream) return Http2FrameError.Stream(Http2ErrorCode.ProtocolError, "1xx with END_STREAM");
            head.Reset(Http2HeadKind.Response);
            return default;
        }
        stream.HeadReceived = true;
        if (_blockEndStream)
        {
            // The body is known to be empty before the stream's work starts (it may start inline, now).
            Http2FrameError e = EndInbound(stream);
            if (e.IsError) return e;
        }
        stream.OnHeadersReceived(_blockEndStream);
        return default;
    }

    /// <summary>Default: reset the stream. The server answers 431 instead (subclass).</summary>
    protected virtual Http2FrameError OnHeaderListTooLarge(Http2Stream stream) =>
        Http2FrameError.Stream(Http2ErrorCode.ProtocolError, "header list too large");

    private Http2FrameError OnPriority(in Http2FrameHeader h, in ReadOnlySequence<byte> payload)
    {
        // §5.3.2: priority signals are parsed and ignored, except a self-dependency (§5.3.1).
        if (Http2FrameReader.PriorityDependency(payload) == h.StreamId)
            return Http2FrameError.Stream(Http2ErrorCode.ProtocolError, "stream depends on itself");
        if (++_priorityFrames > Options.MaxPriorityFramesPerStream * (_streamsOpened + 1))
        {
            Stats.InboundPriorityFramesFlood.Increment();
            return Http2FrameError.Connection(Http2ErrorCode.EnhanceYourCalm, "too many PRIORITY frames");
        }
        return default;
    }

    private Http2FrameError OnRstStream(in Http2FrameHeader h, in ReadOnlySequence<byte> payload)
    {
        if (IsIdle(h.StreamId)) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "RST_STREAM on an idle stream");
        Http2Stream? stream = FindStreamOnReadLoop(h.StreamId);
        if (stream is null) return default;
        Stats.RxReset.Increment();
        var code = (Http2ErrorCode)Http2FrameReader.ReadUInt32(payload);
        // Rapid reset (CVE-2023-44487): opening and cancelling streams costs us far more than the client.
        if (IsServer && !stream.EndStreamSent && !_resetBudget.TryTake())
        {
            Stats.RapidReset.Increment();
            FailStream(stream, code, sendReset: false);
            return Http2FrameError.Connection(Http2ErrorCode.EnhanceYourCalm, "too many streams reset by the client");
        }
        FailStream(stream, code, sendReset: false);
        return default;
    }

    private Http2FrameError OnSettings(in Http2FrameHeader h, in ReadOnlySequence<byte> payload)
    {
        if (h.HasFlag(Http2Flags.Ack))
        {
            Volatile.Write(ref _settingsAcked, true);
            return default;
        }
        if (!_controlBudget.TryTake())
        {
            Stats.OutboundControlFlood.Increment();
            return Http2FrameError.Connection(Http2ErrorCode.EnhanceYourCalm, "SETTINGS flood");
        }
        Http2Settings updated = _peer;
        Http2FrameError e = updated.Apply(payload, out int windowDelta);
        if (e.IsError) return e;
        lock (Output.SyncRoot)
        {
            if (windowDelta != 0)
            {
                // §6.9.2: adjust every open stream's send window by the difference; overflow is a connection error.
                foreach (Http2Stream s in _streams.Values)
                {
                    s.SendWindow += windowDelta;
                    if (s.SendWindow > Http2Constants.MaxWindowSize)
                        return Http2FrameError.Connection(Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE overflows a stream window");
                }
            }
            _peer = updated;
            Output.PeerMaxFrameSize = updated.MaxFrameSize;
            Output.Encoder.SetPeerMaxTableSize(Math.Min(updated.HeaderTableSize, 4096));
            Output.WriteSettingsAck();
        }
        OnPeerSettingsChanged();
        if (windowDelta > 0) WakeAllStreams();
        return default;
    }

    /// <summary>The peer's SETTINGS were applied (client pools re-read MAX_CONCURRENT_STREAMS).</summary>
    protected virtual void OnPeerSettingsChanged() { }

    private Http2FrameError OnPing(in Http2FrameHeader h, in ReadOnlySequence<byte> payload)
    {
        Span<byte> eight = stackalloc byte[8];
        payload.Slice(0, 8).CopyTo(eight);
        ulong opaque = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(eight);
        if (h.HasFlag(Http2Flags.Ack))
        {
            OnPingAck(opaque);
            return default;
        }
        if (!_controlBudget.TryTake())
        {
            Stats.OutboundControlFlood.Increment();
            return Http2FrameError.Connection(Http2ErrorCode.EnhanceYourCalm, "PING flood");
        }
        Output.WritePing(ack: true, opaque);
        return default;
    }

    private Http2FrameError OnGoAway(in ReadOnlySequence<byte> payload)
    {
        (int last, Http2ErrorCode code) = Http2FrameReader.ReadGoAway(payload);
        Stats.GoAwayReceived.Increment();
        _closing = true;
        OnGoAwayReceived(last, code);
        if (ActiveStreams == 0) _input.CancelPendingRead();
        return default;
    }

    private Http2FrameError OnWindowUpdate(in Http2FrameHeader h, in ReadOnlySequence<byte> payload)
    {
        int increment = Http2FrameReader.ReadUInt31(payload);
        if (h.StreamId == 0)
        {
            lock (Output.SyncRoot)
            {
                _connectionSendWindow += increment;
                if (_connectionSendWindow > Http2Constants.MaxWindowSize)
                    return Http2FrameError.Connection(Http2ErrorCode.FlowControlError, "connection send window above 2^31-1");
            }
            WakeConnectionWindowWaiters();
            return default;
        }
        if (IsIdle(h.StreamId)) return Http2FrameError.Connection(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE on an idle stream");
        Http2Stream? stream = FindStreamOnReadLoop(h.StreamId);
        if (stream is null) return default;
        lock (Output.SyncRoot)
        {
            stream.SendWindow += increment;
            if (stream.SendWindow > Http2Constants.MaxWindowSize)
                return Http2FrameError.Stream(Http2ErrorCode.FlowControlError, "stream send window above 2^31-1");
        }
        stream.SendSignal.Set();
        return default;
    }

    /// <summary>Receives and drops a header block we must decode but not keep (refused or reset streams).</summary>
    private sealed class DiscardSink : IHpackHeaderSink
    {
        public static readonly DiscardSink Instance = new();
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) { }
    }
}
