using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Sidecar.Core.Async;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http1;
using Sidecar.Core.Pools;

namespace Sidecar.Core.Proxy;

internal sealed partial class Http1ProxySession
{
    private long _requestRemaining;
    private volatile bool _stopPump;
    private bool _requestTrailerStarted;
    private bool _responseTrailerStarted;
    private long _requestBodyBytes;
    private long _responseBodyBytes;
    private bool _requestBodyTooLarge;

    /// <summary>
    /// Sends the request body when it is already in the receive buffer (the common small-request case,
    /// handled without a second task). Returns complete=false when the rest must be pumped.
    /// </summary>
    private (bool Complete, bool Ok) TryForwardBufferedRequestBody(PipeWriter upstream)
    {
        _requestRemaining = _request.ContentLength;
        _requestChunks.Reset();
        _requestTrailerStarted = false;
        _requestBodyBytes = 0;
        _requestBodyTooLarge = false;
        if (!_in.TryRead(out ReadResult r)) return (false, true);
        ReadOnlySequence<byte> buffer = r.Buffer;
        if (_request.Framing == BodyFraming.ContentLength)
        {
            long take = Math.Min(buffer.Length, _requestRemaining);
            Write(upstream, buffer.Slice(0, take));
            _requestRemaining -= take;
            _in.AdvanceTo(buffer.GetPosition(take));
            if (_requestRemaining == 0) _adjust.Clock.RequestComplete();
            return (_requestRemaining == 0, true);
        }
        var reader = new SequenceReader<byte>(buffer);
        ChunkStep step = CopyChunks(ref reader, ref _requestChunks, ref _requestTrailerStarted, upstream, reencode: true, ref _requestBodyBytes, Hcm.MaxRequestBodyBytes);
        _in.AdvanceTo(reader.Position);
        _requestBodyTooLarge = step == ChunkStep.TooLarge;
        if (step == ChunkStep.Done) _adjust.Clock.RequestComplete();
        return (step == ChunkStep.Done, step is not (ChunkStep.Error or ChunkStep.TooLarge));
    }

    /// <summary>Streams the rest of the request body while the response is read (an echoing upstream would otherwise deadlock).</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> PumpRequestBodyAsync(PipeWriter upstream)
    {
        _stopPump = false;
        try
        {
            while (true)
            {
                ReadResult r = await _in.ReadAsync();
                ReadOnlySequence<byte> buffer = r.Buffer;
                if (r.IsCanceled)
                {
                    _in.AdvanceTo(buffer.Start);
                    if (TimedOut || _stopPump) return false;
                    continue;
                }
                _adjust.Clock.BodyProgress();
                bool done;
                if (_request.Framing == BodyFraming.ContentLength)
                {
                    long take = Math.Min(buffer.Length, _requestRemaining);
                    Write(upstream, buffer.Slice(0, take));
                    _requestRemaining -= take;
                    _in.AdvanceTo(buffer.GetPosition(take));
                    done = _requestRemaining == 0;
                }
                else
                {
                    var reader = new SequenceReader<byte>(buffer);
                    ChunkStep step = CopyChunks(ref reader, ref _requestChunks, ref _requestTrailerStarted, upstream, reencode: true, ref _requestBodyBytes, Hcm.MaxRequestBodyBytes);
                    _in.AdvanceTo(reader.Position, buffer.End);
                    if (step == ChunkStep.TooLarge)
                    {
                        // Stop the exchange: the upstream must not wait for the rest of a body we refuse.
                        _requestBodyTooLarge = true;
                        _activeUpstream?.Abort();
                    }
                    if (step is ChunkStep.Error or ChunkStep.TooLarge) return false;
                    done = step == ChunkStep.Done;
                }
                // The request is complete once its last byte is read (Envoy's end of stream), not when the upstream took it.
                if (done) _adjust.Clock.RequestComplete();
                FlushResult f = await upstream.FlushAsync();
                if (done) return true;
                if (f.IsCompleted || f.IsCanceled) return false;
                if (r.IsCompleted) return false;
            }
        }
        catch (IOException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            // The exchange was aborted and the upstream pipe completed under us.
            return false;
        }
    }

    /// <summary>Makes a running request-body pump return (false) even while the client sends nothing.</summary>
    private void StopRequestBodyPump()
    {
        _stopPump = true;
        _in.CancelPendingRead();
        // The pump may be parked in a flush to an upstream that stopped reading (it answered early).
        _activeUpstream?.Output.CancelPendingFlush();
    }

    /// <summary>Reads and discards a request body we answer locally, so keep-alive can continue.</summary>
    private async ValueTask<bool> SkipRequestBodyAsync()
    {
        if (_request.Framing == BodyFraming.None) return true;
        _requestRemaining = _request.ContentLength;
        _requestChunks.Reset();
        _requestTrailerStarted = false;
        while (true)
        {
            ReadResult r = await _in.ReadAsync();
            ReadOnlySequence<byte> buffer = r.Buffer;
            if (_request.Framing == BodyFraming.ContentLength)
            {
                long take = Math.Min(buffer.Length, _requestRemaining);
                _requestRemaining -= take;
                _in.AdvanceTo(buffer.GetPosition(take));
                if (_requestRemaining == 0) return true;
            }
            else
            {
                var reader = new SequenceReader<byte>(buffer);
                ChunkStep step = CopyChunks(ref reader, ref _requestChunks, ref _requestTrailerStarted, null, reencode: false, ref _requestBodyBytes, 0);
                _in.AdvanceTo(reader.Position, buffer.End);
                if (step == ChunkStep.Done) return true;
                if (step == ChunkStep.Error) return false;
            }
            if (r.IsCompleted) return false;
        }
    }

    private enum ResponseBodyStep : byte { More, Done, Failed }

    // The bytes that followed a final response head in the read that completed it, not yet consumed from the
    // upstream pipe (see ParseResponseHead). Exactly one of StartResponseBody or ReleaseHeldResponse consumes them.
    private ReadOnlySequence<byte> _heldResponse;
    private bool _heldResponseCompleted;
    private PipeReader? _heldReader;
    private long _responseRemaining;

    /// <summary>Gives the held bytes back to the upstream pipe unread (no body expected, a tunnel, or an early exit).</summary>
    private void ReleaseHeldResponse()
    {
        PipeReader? reader = _heldReader;
        if (reader is null) return;
        _heldReader = null;
        reader.AdvanceTo(_heldResponse.Start);
        _heldResponse = default;
    }

    /// <summary>
    /// Copies the part of the response body that arrived with the head (all of it, for a small response) behind
    /// the head in the client's output, unflushed. <see cref="ResponseBodyStep.More"/>: the rest is still on the wire.
    /// </summary>
    private ResponseBodyStep StartResponseBody(PipeReader input, BodyFraming framing, bool chunkOut)
    {
        if (framing == BodyFraming.None)
        {
            ReleaseHeldResponse();
            return ResponseBodyStep.Done;
        }
        _responseRemaining = _response.ContentLength;
        _responseChunks.Reset();
        _responseTrailerStarted = false;
        _responseBodyBytes = 0;
        if (_heldReader is null) return ResponseBodyStep.More;
        _heldReader = null;
        ReadOnlySequence<byte> held = _heldResponse;
        _heldResponse = default;
        return CopyResponseBody(input, held, _heldResponseCompleted, framing, chunkOut);
    }

    /// <summary>Streams the rest of the response body to the client with backpressure (flush, then read), re-framing as needed.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ForwardRestOfResponseBodyAsync(PipeReader input, BodyFraming framing, bool chunkOut)
    {
        try
        {
            while (true)
            {
                // What the last step copied goes out before the next wait, so the client is never held back by a slow upstream.
                Arm(Hcm.StreamIdleTimeout, null, _out);
                FlushResult f = await _out.FlushAsync();
                while (f.IsCanceled && !TimedOut && !f.IsCompleted) f = await _out.FlushAsync();
                Disarm();
                if (f.IsCompleted || f.IsCanceled) return false;

                ReadResult r;
                while (true)
                {
                    Arm(Hcm.StreamIdleTimeout, input, null);
                    try
                    {
                        r = await input.ReadAsync();
                    }
                    catch (IOException)
                    {
                        return false;   // reset by the upstream mid-body: the client connection is closed (UC)
                    }
                    Disarm();
                    if (!r.IsCanceled) break;
                    input.AdvanceTo(r.Buffer.Start);
                    if (TimedOut) return false;
                }
                ResponseBodyStep step = CopyResponseBody(input, r.Buffer, r.IsCompleted, framing, chunkOut);
                if (step != ResponseBodyStep.More) return step == ResponseBodyStep.Done;
            }
        }
        finally
        {
            Disarm();
        }
    }

    /// <summary>Copies one read of response body into the client's output (unflushed) and consumes it from <paramref name="input"/>.</summary>
    private ResponseBodyStep CopyResponseBody(PipeReader input, in ReadOnlySequence<byte> buffer, bool isCompleted, BodyFraming framing, bool chunkOut)
    {
        bool done;
        switch (framing)
        {
            case BodyFraming.ContentLength:
            {
                long take = Math.Min(buffer.Length, _responseRemaining);
                Write(_out, buffer.Slice(0, take));
                _responseRemaining -= take;
                input.AdvanceTo(buffer.GetPosition(take));
                done = _responseRemaining == 0;
                break;
            }
            case BodyFraming.Chunked:
            {
                var reader = new SequenceReader<byte>(buffer);
                ChunkStep step = CopyChunks(ref reader, ref _responseChunks, ref _responseTrailerStarted, _out, chunkOut, ref _responseBodyBytes, 0);
                input.AdvanceTo(reader.Position, buffer.End);
                if (step is ChunkStep.Error or ChunkStep.TooLarge) return ResponseBodyStep.Failed;
                done = step == ChunkStep.Done;
                break;
            }
            default:
            {
                if (!buffer.IsEmpty)
                {
                    if (chunkOut) WriteChunkHeader(_out, buffer.Length);
                    Write(_out, buffer);
                    if (chunkOut) _out.Write("\r\n"u8);
                }
                input.AdvanceTo(buffer.End);
                done = isCompleted;
                if (done && chunkOut) _out.Write("0\r\n\r\n"u8);
                break;
            }
        }
        if (done) return ResponseBodyStep.Done;
        // The upstream closed before the body was complete: the client connection is closed (UC).
        return isCompleted ? ResponseBodyStep.Failed : ResponseBodyStep.More;
    }

    private enum ChunkStep : byte { NeedMore, Done, Error, TooLarge }

    /// <summary>Decodes chunks from <paramref name="reader"/> and writes them re-framed (or raw when <paramref name="reencode"/> is false and a target exists).</summary>
    private static ChunkStep CopyChunks(ref SequenceReader<byte> reader, ref ChunkedDecoder decoder, ref bool trailerStarted, PipeWriter? target, bool reencode,
        ref long bodyBytes, long limit)
    {
        while (true)
        {
            ChunkedStatus s = decoder.Read(ref reader, out ReadOnlySequence<byte> data, out _);
            switch (s)
            {
                case ChunkedStatus.Data:
                    bodyBytes += data.Length;
                    if (limit > 0 && bodyBytes > limit) return ChunkStep.TooLarge;
                    if (target is null) break;
                    if (reencode) WriteChunkHeader(target, data.Length);
                    Write(target, data);
                    if (reencode) target.Write("\r\n"u8);
                    break;
                case ChunkedStatus.Trailer:
                    // Without chunked framing on the way out (HTTP/1.0 client) there is nowhere to put trailers.
                    if (target is null || !reencode) break;
                    if (reencode && !trailerStarted)
                    {
                        target.Write("0\r\n"u8);
                        trailerStarted = true;
                    }
                    Write(target, data);
                    break;
                case ChunkedStatus.Done:
                    if (target is not null && reencode)
                    {
                        if (reencode && !trailerStarted) target.Write("0\r\n"u8);
                        target.Write("\r\n"u8);
                    }
                    return ChunkStep.Done;
                case ChunkedStatus.NeedMore:
                    return ChunkStep.NeedMore;
                default:
                    return ChunkStep.Error;
            }
        }
    }

    private static void WriteChunkHeader(PipeWriter w, long length)
    {
        Span<byte> s = w.GetSpan(20);
        Utf8Formatter.TryFormat(length, s, out int n, new StandardFormat('x'));
        s[n] = (byte)'\r';
        s[n + 1] = (byte)'\n';
        w.Advance(n + 2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Write(PipeWriter w, in ReadOnlySequence<byte> data)
    {
        if (data.IsSingleSegment)
        {
            w.Write(data.FirstSpan);
            return;
        }
        foreach (ReadOnlyMemory<byte> segment in data) w.Write(segment.Span);
    }

    /// <summary>After 101 Switching Protocols or a 2xx to CONNECT: relay bytes both ways until either side closes.</summary>
    private async ValueTask<bool> TunnelAsync(UpstreamConnection upstream, RouteModel route, VirtualHostModel vhost, long start)
    {
        Http1HeadWriter.WriteResponseHead(_out, _response, route, vhost, _chain, chunked: false, close: false, _request.Version, start, tunnel: true);
        _chain.Stats.CountResponse(_response.StatusCode);
        _chain.Stats.DownstreamCxUpgradesTotal.Increment();
        await _out.FlushAsync();
        await RelayUntilEitherEndsAsync(upstream);
        return false;
    }

    /// <summary>Relays bytes both ways; when one side ends, the other is closed so neither task outlives the tunnel.</summary>
    private async Task RelayUntilEitherEndsAsync(UpstreamConnection upstream)
    {
        Task up = Tcp.PipeRelay.CopyAsync(_in, upstream.Output);
        Task down = Tcp.PipeRelay.CopyAsync(upstream.Input, _out);
        await Task.WhenAny(up, down);
        upstream.Abort();
        _downstream.Abort();
        try
        {
            await Task.WhenAll(up, down);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // Ending a tunnel by abort is the normal way for one of the two directions to stop.
        }
    }
}
