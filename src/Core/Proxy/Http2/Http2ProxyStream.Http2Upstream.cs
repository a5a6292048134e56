using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Sidecar.Core.Async;
using Sidecar.Core.Balancing;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http2;
using Sidecar.Core.Pools;

namespace Sidecar.Core.Proxy.Http2;

internal sealed partial class Http2ProxyStream
{
    private volatile Http2UpstreamStream? _upstreamStream;
    private volatile int _upstreamStreamId;

    /// <summary>Cancels the upstream stream of this exchange, if it is still that stream (callers run on other threads).</summary>
    private void CancelUpstreamStream()
    {
        Http2UpstreamStream? up = _upstreamStream;
        if (up is not null) up.Cancel(_upstreamStreamId);
    }

    /// <summary>
    /// HTTP/2 request → HTTP/2 upstream: a stream on a pooled multiplexed connection. Fields are
    /// re-encoded (never-indexed kept), DATA and trailers pass through in both directions, and gRPC's
    /// trailers-only responses and grpc-status trailers arrive unchanged.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<Outcome> AttemptHttp2Async(RouteModel route, VirtualHostModel vhost, RouteActionModel action,
        ClusterRuntime cluster, long start, RetryPolicyModel? retry)
    {
        (Http2UpstreamConnection? connection, EndpointState? endpoint, ProxyError connectError) =
            await UpstreamRequests.GetHttp2ConnectionAsync(cluster, _connection.Services, _connection.OriginalDestination);
        if (connection is null) return new Outcome(connectError, CanRetry(retry, connectError), false);

        bool hasBody = !(EndStreamReceived && InboundDataBytes == 0);
        (Http2UpstreamStream up, IBufferWriter<byte> block) = connection.BeginRequest();
        up.BodylessResponseExpected = Head.Method.SequenceEqual("HEAD"u8);
        Http2Fields.RequestToHttp2(connection.Output.Encoder, block, Head, route, vhost, action, Chain, _connection.ClientAddress, _adjust);
        connection.EndRequestHeaders(up, endStream: !hasBody);
        _upstreamStreamId = up.Id;
        _upstreamStream = up;
        endpoint!.BeginRequest();
        // Envoy starts a try's per_try_timeout when its connection is ready (or the request complete, if later).
        _adjust.Clock.BeginTry(retry is not null ? retry.PerTryTimeout : TimeSpan.Zero);
        ValueTask<bool> pump = hasBody ? PumpBodyToHttp2Async(connection, up) : new ValueTask<bool>(true);
        try
        {
            // The request's clock bounds the wait (route timeout from the end of the request, which the pump marks);
            // on expiry the heartbeat cancels the upstream stream, which wakes this wait.
            _adjust.Clock.StartWait(null);
            await up.HeadSignal.WaitAsync();
            DeadlineExpiry expired = _adjust.Clock.EndWait();
            if (!up.HeadReceived)
            {
                if (expired != DeadlineExpiry.None)
                {
                    ProxyError timeout = expired.ToProxyError();
                    if (timeout == ProxyError.UpstreamRequestTimeout) cluster.Stats.CountTimeout(expired);
                    up.Cancel();
                    // Only a try's own timeout is retried: the route timeout and a stream duration end the request.
                    bool retryable = expired == DeadlineExpiry.PerTryTimeout && CanRetry(retry, ProxyError.UpstreamRequestTimeout) && !hasBody;
                    return new Outcome(timeout, retryable, false);
                }
                // Refused streams were never processed: always safe to try again.
                // A refused stream's body (if any) was not consumed by the upstream, but it was consumed from
                // the client's pipe: only a bodiless request can be sent again.
                bool replayable = !hasBody;
                return new Outcome(ProxyError.UpstreamConnectionTermination, replayable && CanRetry(retry, ProxyError.UpstreamConnectionTermination), false, Refused: up.Refused && replayable);
            }
            Http2Head response = up.Head;
            cluster.Stats.CountResponse(response.StatusCode);
            bool headersOnly = up.HeadEndedStream;
            IBufferWriter<byte>? down = _connection.BeginHeaders(this);
            if (down is null) return new Outcome(ProxyError.None, false, true);
            Http2Fields.ResponseFromHttp2(_connection.Writer.Encoder, down, response, route, vhost, Chain, start);
            _connection.EndHeaders(this, endStream: headersOnly);
            Chain.Stats.CountResponse(response.StatusCode);
            if (headersOnly)
            {
                await _connection.FlushAsync();
                return new Outcome(ProxyError.None, false, true);
            }
            if (!await ForwardHttp2BodyAsync(up)) _connection.ResetStream(this, up.IsReset ? up.ResetCode : Http2ErrorCode.InternalError);
            return new Outcome(ProxyError.None, false, true);
        }
        finally
        {
            _adjust.Clock.EndWait();
            _upstreamStream = null;
            if (!up.EndStreamReceived || !up.EndStreamSent) up.Cancel();
            if (!pump.IsCompleted) StopBodyPump();
            await pump;
            endpoint.EndRequest();
            connection.CompleteStreamWork(up);
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> PumpBodyToHttp2Async(Http2UpstreamConnection connection, Http2UpstreamStream up)
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
                    up.Cancel();
                    return false;
                }
                _adjust.Clock.BodyProgress();
                // END_STREAM read: the request is complete, the route timeout starts (Envoy's onRequestComplete).
                if (r.IsCompleted) _adjust.Clock.RequestComplete();
                bool last = r.IsCompleted && !HasTrailers;
                bool sent = await connection.WriteDataAsync(up, buffer, endStream: last);
                int consumed = (int)buffer.Length;
                body.AdvanceTo(buffer.End);
                ConsumeInbound(consumed);
                if (!sent) return false;
                if (r.IsCompleted)
                {
                    if (HasTrailers)
                    {
                        IBufferWriter<byte>? block = connection.BeginHeaders(up);
                        if (block is null) return false;
                        Http2Fields.Trailers(connection.Output.Encoder, block, Trailers);
                        connection.EndHeaders(up, endStream: true);
                        await connection.FlushAsync();
                    }
                    return true;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
        {
            up.Cancel();
            return false;
        }
    }

    /// <summary>Response DATA straight from the upstream read loop to the client when the windows allow (see <see cref="IHttp2DataSink"/>).</summary>
    bool IHttp2DataSink.TryWriteData(in ReadOnlySequence<byte> data, bool endStream) => _connection.TryWriteDataNow(this, data, endStream);

    /// <summary>
    /// Upstream DATA to the client as the client's windows allow; upstream trailers (grpc-status) follow. While
    /// this runs, DATA that finds the client's windows open is written by the upstream read loop itself (the
    /// sink); what does not fit waits in the upstream stream's pipe and is sent from here, in order.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ForwardHttp2BodyAsync(Http2UpstreamStream up)
    {
        up.DataSink = this;
        try
        {
            // While nothing is queued, the sink does the forwarding: wait for the read loop's word without the pipe
            // (whose every operation takes a lock), and finish here when the sink already sent the last DATA.
            while (!up.HasQueuedInbound)
            {
                if (up.InboundEnded)
                {
                    if (EndStreamSent && !up.HasTrailers) return true;
                    if (up.IsReset) return false;
                    break; // trailers to send, or an END_STREAM the sink did not carry: the pipe path below
                }
                await up.InboundSignal.WaitAsync();
            }
            PipeReader body = up.InboundBody;
            while (true)
            {
                ReadResult r = await body.ReadAsync();
                ReadOnlySequence<byte> buffer = r.Buffer;
                // The sink already wrote the last DATA with END_STREAM (the pipe was empty then, so it is now too).
                if (r.IsCompleted && buffer.IsEmpty && EndStreamSent) return true;
                bool last = r.IsCompleted && !up.HasTrailers;
                bool sent = buffer.IsEmpty && !last || await _connection.WriteDataAsync(this, buffer, endStream: last);
                int consumed = (int)buffer.Length;
                body.AdvanceTo(buffer.End);
                up.ConsumeInbound(consumed);
                if (!sent) return false;
                if (!r.IsCompleted) continue;
                if (up.HasTrailers)
                {
                    IBufferWriter<byte>? block = _connection.BeginHeaders(this);
                    if (block is null) return false;
                    Http2Fields.Trailers(_connection.Writer.Encoder, block, up.Trailers);
                    _connection.EndHeaders(this, endStream: true);
                    await _connection.FlushAsync();
                }
                return true;
            }
        }
        catch (Http2StreamResetException)
        {
            return false;
        }
        finally
        {
            up.DataSink = null;
        }
    }
}
