using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Sidecar.Core.Async;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http;
using Sidecar.Core.Http1;
using Sidecar.Core.Http2;
using Sidecar.Core.Pools;

namespace Sidecar.Core.Proxy.Http2;

internal sealed partial class Http2ProxyStream
{
    private readonly Http1Head _response = new();
    private ChunkedDecoder _responseChunks;
    private byte[] _trailerLines = [];
    private int _trailerLength;

    /// <summary>
    /// HTTP/2 request → HTTP/1.1 upstream: head translated (§8.3.1), body re-framed (content-length kept,
    /// otherwise chunked with trailers), response translated back to HEADERS/DATA/trailers.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<Outcome> AttemptHttp1Async(RouteModel route, VirtualHostModel vhost, RouteActionModel action,
        ClusterRuntime cluster, long start, RetryPolicyModel? retry)
    {
        (UpstreamConnection? upstream, ProxyError connectError) =
            await UpstreamRequests.GetHttp1ConnectionAsync(cluster, _connection.Services, _connection.OriginalDestination);
        if (upstream is null) return new Outcome(connectError, CanRetry(retry, connectError), false);
        _activeUpstream = upstream;
        bool reusable = false;
        upstream.Endpoint.BeginRequest();
        // Envoy starts a try's per_try_timeout when its connection is ready (or the request complete, if later).
        _adjust.Clock.BeginTry(retry is not null ? retry.PerTryTimeout : TimeSpan.Zero);
        bool hasBody = !(EndStreamReceived && InboundDataBytes == 0);
        bool chunked = hasBody && Head.ContentLength < 0;
        ValueTask<bool> pump = default;
        bool pumpAwaited = !hasBody;
        try
        {
            Http2ToHttp1.WriteRequestHead(upstream.Output, Head, route, vhost, action, Chain, _connection.ClientAddress, _adjust, chunked);
            upstream.RequestCount++;
            if (hasBody) pump = PumpBodyToHttp1Async(upstream.Output, chunked);
            else
            {
                FlushResult f;
                try
                {
                    f = await upstream.Output.FlushAsync();
                }
                catch (IOException)
                {
                    f = new FlushResult(false, true);
                }
                if (f.IsCompleted)
                {
                    upstream.Abort();
                    return new Outcome(ProxyError.UpstreamConnectionTermination, CanRetry(retry, ProxyError.UpstreamConnectionTermination) || upstream.Reused, false);
                }
            }

            ProxyError headError = await ReadHttp1ResponseHeadAsync(upstream);
            if (headError != ProxyError.None)
            {
                upstream.Abort();
                if (!pumpAwaited)
                {
                    pumpAwaited = true;
                    if (!pump.IsCompleted) StopBodyPump();
                    await pump;
                }
                if (headError == ProxyError.UpstreamRequestTimeout) cluster.Stats.CountTimeout(_adjust.Clock.Expired);
                // A reused keep-alive connection closed before answering is replayed once, like Envoy.
                bool stale = headError == ProxyError.UpstreamConnectionTermination && upstream.Reused && !hasBody;
                // Only a try's own timeout is retried: the route timeout and a stream duration end the request.
                bool retryable = CanRetry(retry, headError) && (headError != ProxyError.UpstreamRequestTimeout || _adjust.Clock.Expired == DeadlineExpiry.PerTryTimeout);
                return new Outcome(headError, (retryable && !hasBody) || stale, false);
            }
            int code = _response.StatusCode;
            cluster.Stats.CountResponse(code);

            BodyFraming framing = Http1HeadParser.ResponseFraming(_response, Head.Method.SequenceEqual("HEAD"u8) ? KnownMethod.Head : KnownMethod.Get);
            IBufferWriter<byte>? block = _connection.BeginHeaders(this);
            if (block is null) return new Outcome(ProxyError.None, false, true);
            Http2Fields.ResponseFromHttp1(_connection.Writer.Encoder, block, _response, route, vhost, Chain, start);
            _connection.EndHeaders(this, endStream: framing == BodyFraming.None);
            Chain.Stats.CountResponse(code);
            bool ok = framing == BodyFraming.None || await ForwardHttp1BodyAsync(upstream, framing);
            if (framing == BodyFraming.None) await _connection.FlushAsync();
            bool bodySent = true;
            if (!pumpAwaited)
            {
                pumpAwaited = true;
                // The response is complete; a request body still arriving is not waited for.
                if (!pump.IsCompleted) upstream.Abort();
                if (!pump.IsCompleted) StopBodyPump();
                bodySent = await pump;
            }
            if (!ok)
            {
                if (!EndStreamSent) _connection.ResetStream(this, Http2ErrorCode.InternalError);
                return new Outcome(ProxyError.UpstreamConnectionTermination, false, true);
            }
            reusable = bodySent && _response.KeepAlive && framing != BodyFraming.UntilClose
                && (cluster.Model.MaxRequestsPerConnection == 0 || upstream.RequestCount < cluster.Model.MaxRequestsPerConnection);
            return new Outcome(ProxyError.None, false, true);
        }
        finally
        {
            if (!pumpAwaited)
            {
                upstream.Abort();
                if (!pump.IsCompleted) StopBodyPump();
                try
                {
                    await pump;
                }
                catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
                {
                }
            }
            upstream.Endpoint.EndRequest();
            _activeUpstream = null;
            if (reusable) cluster.Pool.Release(upstream);
            else await upstream.DisposeAsync();
        }
    }

    /// <summary>Copies the stream's DATA to the HTTP/1.1 upstream, returning window to the client as it goes.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> PumpBodyToHttp1Async(PipeWriter upstream, bool chunked)
    {
        PipeReader body = InboundBody;
        try
        {
            while (true)
            {
                ReadResult r = await body.ReadAsync();
                ReadOnlySequence<byte> buffer = r.Buffer;
                if (r.IsCanceled)
                {
                    // StopBodyPump: the exchange ended without the rest of the body.
                    body.AdvanceTo(buffer.Start);
                    return false;
                }
                _adjust.Clock.BodyProgress();
                // END_STREAM read: the request is complete, the route timeout starts (Envoy's onRequestComplete).
                if (r.IsCompleted) _adjust.Clock.RequestComplete();
                if (!buffer.IsEmpty)
                {
                    if (chunked) Http2ToHttp1.WriteChunkHeader(upstream, buffer.Length);
                    foreach (ReadOnlyMemory<byte> segment in buffer) upstream.Write(segment.Span);
                    if (chunked) upstream.Write("\r\n"u8);
                }
                int consumed = (int)buffer.Length;
                body.AdvanceTo(buffer.End);
                ConsumeInbound(consumed);
                if (r.IsCompleted && chunked) Http2ToHttp1.WriteLastChunk(upstream, HasTrailers ? Trailers : null);
                FlushResult f = await upstream.FlushAsync();
                if (r.IsCompleted) return !f.IsCompleted || true;
                if (f.IsCompleted || f.IsCanceled) return false;
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
        {
            // The client reset the stream (the body pipe fails) or the upstream went away.
            return false;
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<ProxyError> ReadHttp1ResponseHeadAsync(UpstreamConnection upstream, bool allowSwitch = false)
    {
        PipeReader input = upstream.Input;
        // The request's clock bounds the wait (route timeout from the end of the request, which the body pump marks).
        _adjust.Clock.StartWait(input);
        try
        {
            while (true)
            {
                _response.Reset();
                while (true)
                {
                    ReadResult r;
                    try
                    {
                        r = await input.ReadAsync();
                    }
                    catch (IOException)
                    {
                        return ProxyError.UpstreamConnectionTermination;
                    }
                    ReadOnlySequence<byte> buffer = r.Buffer;
                    if (r.IsCanceled)
                    {
                        input.AdvanceTo(buffer.Start);
                        if (_adjust.Clock.WaitExpired) return _adjust.Clock.EndWait().ToProxyError();
                        if (IsReset) return ProxyError.UpstreamConnectionTermination;
                        continue;
                    }
                    var reader = new SequenceReader<byte>(buffer);
                    Http1ParseStatus status = Http1HeadParser.ParseResponse(ref reader, _response, Http1Limits.Default, out _);
                    if (status == Http1ParseStatus.Complete)
                    {
                        input.AdvanceTo(reader.Position);
                        break;
                    }
                    if (status == Http1ParseStatus.Error)
                    {
                        input.AdvanceTo(buffer.End);
                        return ProxyError.UpstreamProtocolError;
                    }
                    input.AdvanceTo(reader.Position, buffer.End);
                    if (r.IsCompleted) return ProxyError.UpstreamConnectionTermination;
                }
                int code = _response.StatusCode;
                // Interim 1xx answers are not forwarded on HTTP/2 (a 101 cannot happen on HTTP/2 at all).
                if (code == 101) return allowSwitch ? ProxyError.None : ProxyError.UpstreamProtocolError;
                if (code >= 200) return ProxyError.None;
            }
        }
        finally
        {
            _adjust.Clock.EndWait();
        }
    }

    /// <summary>The HTTP/1.1 response body as DATA frames; chunked trailers become a trailing HEADERS block.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ForwardHttp1BodyAsync(UpstreamConnection upstream, BodyFraming framing)
    {
        PipeReader input = upstream.Input;
        long remaining = _response.ContentLength;
        _responseChunks.Reset();
        _trailerLength = 0;
        while (true)
        {
            ReadResult r;
            try
            {
                r = await input.ReadAsync();
            }
            catch (IOException)
            {
                return false;
            }
            ReadOnlySequence<byte> buffer = r.Buffer;
            if (r.IsCanceled)
            {
                input.AdvanceTo(buffer.Start);
                return false;
            }
            switch (framing)
            {
                case BodyFraming.ContentLength:
                {
                    long take = Math.Min(buffer.Length, remaining);
                    remaining -= take;
                    bool sent = await _connection.WriteDataAsync(this, buffer.Slice(0, take), endStream: remaining == 0);
                    input.AdvanceTo(buffer.GetPosition(take));
                    if (!sent) return false;
                    if (remaining == 0) return true;
                    break;
                }
                case BodyFraming.Chunked:
                {
                    ReadOnlySequence<byte> rest = buffer;
                    while (true)
                    {
                        var reader = new SequenceReader<byte>(rest);
                        ChunkedStatus step = _responseChunks.Read(ref reader, out ReadOnlySequence<byte> data, out _);
                        SequencePosition position = reader.Position;
                        if (step == ChunkedStatus.NeedMore)
                        {
                            input.AdvanceTo(position, buffer.End);
                            break;
                        }
                        if (step == ChunkedStatus.Error)
                        {
                            input.AdvanceTo(buffer.End);
                            return false;
                        }
                        if (step == ChunkedStatus.Data)
                        {
                            if (!await _connection.WriteDataAsync(this, data, endStream: false))
                            {
                                input.AdvanceTo(position);
                                return false;
                            }
                        }
                        else if (step == ChunkedStatus.Trailer) KeepTrailerLine(data);
                        else
                        {
                            input.AdvanceTo(position);
                            return await EndWithHttp1TrailersAsync();
                        }
                        rest = rest.Slice(position);
                    }
                    break;
                }
                default:
                {
                    bool sent = await _connection.WriteDataAsync(this, buffer, endStream: r.IsCompleted);
                    input.AdvanceTo(buffer.End);
                    if (!sent) return false;
                    if (r.IsCompleted) return true;
                    break;
                }
            }
            if (r.IsCompleted) return false;
        }
    }

    private void KeepTrailerLine(in ReadOnlySequence<byte> line)
    {
        int n = (int)line.Length;
        if (_trailerLength + n > _trailerLines.Length)
        {
            byte[] bigger = new byte[Math.Max(_trailerLines.Length * 2, _trailerLength + n + 256)];
            _trailerLines.AsSpan(0, _trailerLength).CopyTo(bigger);
            _trailerLines = bigger;
        }
        line.CopyTo(_trailerLines.AsSpan(_trailerLength));
        _trailerLength += n;
    }

    private async ValueTask<bool> EndWithHttp1TrailersAsync()
    {
        if (_trailerLength == 0) return await _connection.WriteDataAsync(this, ReadOnlySequence<byte>.Empty, endStream: true);
        IBufferWriter<byte>? block = _connection.BeginHeaders(this);
        if (block is null) return false;
        var enc = _connection.Writer.Encoder;
        ReadOnlySpan<byte> lines = _trailerLines.AsSpan(0, _trailerLength);
        while (!lines.IsEmpty)
        {
            int end = lines.IndexOf("\r\n"u8);
            if (end < 0) end = lines.Length;
            ReadOnlySpan<byte> line = lines[..end];
            int colon = line.IndexOf((byte)':');
            if (colon > 0)
            {
                ReadOnlySpan<byte> name = line[..colon].Trim(" \t"u8);
                if (!Sidecar.Core.Http1.KnownHeaders.IsHopByHop(Sidecar.Core.Http1.KnownHeaders.Classify(name)))
                    enc.Encode(name, line[(colon + 1)..].Trim(" \t"u8), false, block);
            }
            lines = end + 2 <= lines.Length ? lines[(end + 2)..] : default;
        }
        _connection.EndHeaders(this, endStream: true);
        await _connection.FlushAsync();
        return true;
    }
}
