using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Sidecar.Core.Async;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http1;
using Sidecar.Core.Pools;
using Sidecar.Core.Transport;

namespace Sidecar.Core.Proxy;

internal sealed partial class Http1ProxySession
{
    private enum UpstreamResult : byte { Ok, Failed }

    /// <summary>
    /// One request/response exchange with an upstream.
    /// <list type="number">
    /// <item>Pick a cluster (weighted), take a circuit-breaker slot, pick an endpoint.</item>
    /// <item>Reuse an idle pooled connection or connect (connect_timeout).</item>
    /// <item>Write the request head; send the body inline when it is already buffered, else pump it concurrently.</item>
    /// <item>Read the response head within the route timeout; retry per retry_policy when nothing was sent downstream yet.</item>
    /// <item>Write the response head and stream the body; return the upstream connection to its pool when clean.</item>
    /// </list>
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ExchangeAsync(RouteModel route, VirtualHostModel vhost, RouteActionModel action)
    {
        // :: Step 1 — cluster, circuit breaker, endpoint
        ClusterRuntime? cluster = BeginClusterRequest(action, out ProxyError refused);
        if (cluster is null) return await ReplyLocalAsync(refused);
        try
        {
            RetryPolicyModel? retry = action.RetryPolicy ?? vhost.RetryPolicy;
            // Only a request with no body (or whose body is already fully received) can be replayed.
            bool replayable = _request.Framing == BodyFraming.None;
            int attemptsLeft = replayable && retry is not null ? retry.NumRetries : 0;
            bool retried = false;
            long start = Stopwatch.GetTimestamp();
            while (true)
            {
                cluster.Stats.UpstreamRqTotal.Increment();
                cluster.Stats.UpstreamRqActive.Increment();
                AttemptOutcome outcome;
                try
                {
                    outcome = cluster.UsesHttp2(downstreamIsHttp2: false)
                        ? await AttemptHttp2Async(route, vhost, action, cluster, start, retry, attemptsLeft > 0)
                        : await AttemptAsync(route, vhost, action, cluster, start, retry, attemptsLeft > 0);
                }
                finally
                {
                    cluster.Stats.UpstreamRqActive.Decrement();
                }
                if (outcome.Error == ProxyError.None)
                {
                    if (retried) cluster.Stats.UpstreamRqRetrySuccess.Increment();
                    return outcome.KeepAlive;
                }
                if (outcome.Retry && attemptsLeft > 0)
                {
                    attemptsLeft--;
                    retried = true;
                    cluster.Stats.UpstreamRqRetry.Increment();
                    continue;
                }
                if (outcome.ResponseStarted)
                {
                    // Part of the response is already with the client: all we can do is close.
                    return false;
                }
                ProxyError error = retried && outcome.Error == ProxyError.UpstreamConnectFailure ? ProxyError.UpstreamRetryLimitExceeded : outcome.Error;
                return await ReplyLocalAsync(error) && outcome.RequestBodyConsumed;
            }
        }
        finally
        {
            cluster.State.ReleaseRequest();
        }
    }

    private ClusterRuntime? BeginClusterRequest(RouteActionModel action, out ProxyError error) =>
        UpstreamRequests.BeginClusterRequest(_chain, action, out error);

    private readonly record struct AttemptOutcome(ProxyError Error, bool KeepAlive, bool Retry, bool ResponseStarted, bool RequestBodyConsumed);

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<AttemptOutcome> AttemptAsync(RouteModel route, VirtualHostModel vhost, RouteActionModel action,
        ClusterRuntime cluster, long start, RetryPolicyModel? retry, bool canRetry)
    {
        // :: Step 2 — connection
        (UpstreamConnection? upstream, ProxyError connectError) = await GetConnectionAsync(cluster);
        if (upstream is null)
        {
            bool retryConnect = canRetry && retry is not null && (retry.RetryOn & (RetryOn.ConnectFailure | RetryOn.FiveXx | RetryOn.GatewayError | RetryOn.Reset)) != 0;
            return new AttemptOutcome(connectError, false, retryConnect, false, _request.Framing == BodyFraming.None);
        }
        _activeUpstream = upstream;
        bool reusable = false;
        upstream.Endpoint.BeginRequest();
        // Envoy starts a try's per_try_timeout when its connection is ready (or the request complete, if later).
        _adjust.Clock.BeginTry(retry is not null ? retry.PerTryTimeout : TimeSpan.Zero);
        ValueTask<bool> bodyPump = default;
        bool pumping = false;
        bool pumpAwaited = false;
        try
        {
            // :: Step 3 — request head and body
            Http1HeadWriter.WriteRequestHead(upstream.Output, _request, route, vhost, action, _chain, _clientAddress, _adjust, _forwardUpgrade);
            upstream.RequestCount++;
            bool bodyDone = true;
            if (_request.Framing != BodyFraming.None)
            {
                if (_request.ExpectContinue && _request.Version == Http1Version.Http11)
                {
                    // Envoy answers 100-continue itself and does not forward Expect (proxy_100_continue off).
                    _out.Write("HTTP/1.1 100 Continue\r\n\r\n"u8);
                    await _out.FlushAsync();
                }
                (bool complete, bool ok) = TryForwardBufferedRequestBody(upstream.Output);
                if (!ok) return new AttemptOutcome(_requestBodyTooLarge ? ProxyError.RequestBodyTooLarge : ProxyError.BadRequest, false, false, false, false);
                bodyDone = complete;
            }
            // The head (and whatever body was buffered) goes out before the body pump starts: the pump flushes the
            // same PipeWriter, and a PipeWriter allows one flush at a time.
            FlushResult flushed;
            try
            {
                flushed = await upstream.Output.FlushAsync();
            }
            catch (IOException)
            {
                // Reset by the upstream (Kestrel surfaces it as ConnectionResetException).
                flushed = new FlushResult(isCanceled: false, isCompleted: true);
            }
            if (flushed.IsCompleted)
            {
                // The rest of a streamed body is still unread: the downstream connection cannot be reused after the reply.
                return Failed(ProxyError.UpstreamConnectionTermination, upstream, canRetry && bodyDone, retry) with { RequestBodyConsumed = bodyDone };
            }
            if (!bodyDone)
            {
                bodyPump = PumpRequestBodyAsync(upstream.Output);
                pumping = true;
            }

            // :: Step 4 — response head (1xx interim responses are passed through, except 100 which we generated).
            // The request's clock bounds the wait: route timeout from the end of the request (the pump marks it when a
            // body is still streaming), per_try_timeout from this try, stream_idle_timeout while the client is sending.
            PipeReader upstreamInput = upstream.Input;
            _adjust.Clock.StartWait(upstreamInput);
            while (true)
            {
                // Read in this method rather than a nested async one: the wait for the response is the one every
                // request suspends on, and each extra async level costs a box, a registration and a resume.
                _response.Reset();
                UpstreamHeadStatus hs;
                do
                {
                    ReadResult read;
                    try
                    {
                        read = await upstreamInput.ReadAsync();
                    }
                    catch (IOException)
                    {
                        // Reset by the upstream before a complete head: a termination (retryable, 503 UC).
                        hs = UpstreamHeadStatus.Closed;
                        break;
                    }
                    hs = ParseResponseHead(upstreamInput, read);
                }
                while (hs == UpstreamHeadStatus.Pending);
                if (hs != UpstreamHeadStatus.Ok)
                {
                    DeadlineExpiry expired = _adjust.Clock.EndWait();
                    if (pumping)
                    {
                        upstream.Abort();
                        StopRequestBodyPump();
                        pumpAwaited = true;
                        await bodyPump;
                    }
                    if (_requestBodyTooLarge) return new AttemptOutcome(ProxyError.RequestBodyTooLarge, false, false, false, false);
                    ProxyError e = hs switch
                    {
                        UpstreamHeadStatus.Timeout => expired.ToProxyError(),
                        UpstreamHeadStatus.Malformed => ProxyError.UpstreamProtocolError,
                        _ => ProxyError.UpstreamConnectionTermination,
                    };
                    if (e == ProxyError.UpstreamRequestTimeout) cluster.Stats.CountTimeout(expired);
                    // A reused keep-alive connection closed by the peer before answering is replayed once, like Envoy.
                    bool staleRetry = hs == UpstreamHeadStatus.Closed && upstream.Reused && !pumping && _request.Framing == BodyFraming.None;
                    // Only a try's own timeout is retried: the route timeout and a stream duration end the request.
                    bool mayRetry = hs == UpstreamHeadStatus.Timeout ? canRetry && expired == DeadlineExpiry.PerTryTimeout : canRetry;
                    AttemptOutcome o = Failed(e, upstream, mayRetry || staleRetry, staleRetry ? null : retry);
                    return o with { RequestBodyConsumed = bodyDone && !pumping };
                }
                int status = _response.StatusCode;
                if (status is >= 100 and < 200 && status != 101)
                {
                    // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client; 100 is ours to send (or not).
                    if (status != 100 && _request.Version == Http1Version.Http11) await ForwardInterimAsync();
                    continue;
                }
                _adjust.Clock.EndWait();
                break;
            }

            int code = _response.StatusCode;
            cluster.Stats.CountResponse(code);
            if (canRetry && retry is not null && IsRetriableStatus(retry, code) && !pumping)
            {
                // The response is dropped: the connection cannot be reused without reading it, so close it.
                upstream.Abort();
                return new AttemptOutcome(ProxyError.UpstreamConnectionTermination, false, true, false, true);
            }

            // :: Step 5 — response to the client
            if ((code == 101 && _forwardUpgrade) || (_request.IsConnect && code is >= 200 and < 300))
            {
                // The relay reads the upstream pipe itself, starting with whatever followed the head.
                ReleaseHeldResponse();
                if (pumping)
                {
                    pumpAwaited = true;
                    bodyDone = await bodyPump;
                }
                await TunnelAsync(upstream, route, vhost, start);
                return new AttemptOutcome(ProxyError.None, false, false, true, true);
            }
            if (code == 101)
            {
                // A switch nobody asked for (e.g. a reflected status) must not turn this connection into a raw
                // tunnel past routing: Envoy treats it as a protocol error.
                upstream.Abort();
                return new AttemptOutcome(ProxyError.UpstreamProtocolError, false, false, false, !pumping);
            }
            bool closeDownstream = ShouldClose || pumping && !bodyDone;
            BodyFraming upstreamFraming = Http1HeadParser.ResponseFraming(_response, _request.KnownMethod);
            bool chunkOut = upstreamFraming is BodyFraming.Chunked or BodyFraming.UntilClose && _request.Version == Http1Version.Http11;
            // An HTTP/1.0 client cannot take chunked framing: the body ends when we close.
            if (upstreamFraming is BodyFraming.Chunked or BodyFraming.UntilClose && !chunkOut) closeDownstream = true;
            Http1HeadWriter.WriteResponseHead(_out, _response, route, vhost, _chain, chunkOut, closeDownstream, _request.Version, start);
            _chain.Stats.CountResponse(code);
            // A small body usually came with the head: it is copied behind the head and goes out in the one flush
            // below. Only a body still on the wire needs the streaming loop (which flushes per read).
            ResponseBodyStep first = StartResponseBody(upstreamInput, upstreamFraming, chunkOut);
            bool responseOk = first == ResponseBodyStep.Done
                || first == ResponseBodyStep.More && await ForwardRestOfResponseBodyAsync(upstreamInput, upstreamFraming, chunkOut);
            FlushResult f = await _out.FlushAsync();
            if (pumping)
            {
                // The response is complete; a request body the client is still sending (or stalling on)
                // is not worth waiting for: stop the pump and close the connection afterwards.
                if (!bodyPump.IsCompleted) StopRequestBodyPump();
                pumpAwaited = true;
                bodyDone = await bodyPump;
            }
            if (!responseOk) return new AttemptOutcome(ProxyError.UpstreamConnectionTermination, false, false, true, false);

            reusable = bodyDone && _response.KeepAlive && upstreamFraming != BodyFraming.UntilClose
                && (cluster.Model.MaxRequestsPerConnection == 0 || upstream.RequestCount < cluster.Model.MaxRequestsPerConnection);
            return new AttemptOutcome(ProxyError.None, !closeDownstream && !f.IsCompleted && bodyDone, false, true, bodyDone);
        }
        finally
        {
            _adjust.Clock.EndWait();
            Disarm();
            ReleaseHeldResponse();
            if (pumping && !pumpAwaited)
            {
                // Any early exit (failure, exception) must not leave a second reader on the downstream pipe.
                upstream.Abort();
                StopRequestBodyPump();
                try
                {
                    await bodyPump;
                }
                catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
                {
                }
            }
            upstream.Endpoint.EndRequest();
            _activeUpstream = null;
            if (reusable) cluster.Pool.Release(upstream);
            else
            {
                await upstream.DisposeAsync();
            }
        }
    }

    private static AttemptOutcome Failed(ProxyError e, UpstreamConnection upstream, bool canRetry, RetryPolicyModel? retry)
    {
        upstream.Abort();
        bool retryable = canRetry && (retry is null || (retry.RetryOn & (RetryOn.Reset | RetryOn.FiveXx | RetryOn.GatewayError)) != 0);
        if (e == ProxyError.UpstreamRequestTimeout) retryable = canRetry && retry is not null && retry.PerTryTimeout > TimeSpan.Zero;
        return new AttemptOutcome(e, false, retryable, false, true);
    }

    private static bool IsRetriableStatus(RetryPolicyModel retry, int code)
    {
        if ((retry.RetryOn & RetryOn.FiveXx) != 0 && code >= 500) return true;
        if ((retry.RetryOn & RetryOn.GatewayError) != 0 && code is 502 or 503 or 504) return true;
        if ((retry.RetryOn & RetryOn.RetriableStatusCodes) != 0)
        {
            foreach (int c in retry.RetriableStatusCodes) if (c == code) return true;
        }
        return false;
    }

    private ValueTask<(UpstreamConnection?, ProxyError)> GetConnectionAsync(ClusterRuntime cluster, bool allowPooled = true) =>
        UpstreamRequests.GetHttp1ConnectionAsync(cluster, _services, _originalDestination, allowPooled);

    private enum UpstreamHeadStatus : byte { Ok, Closed, Timeout, Malformed, Pending }

    /// <summary>
    /// One read's worth of response-head parsing. A final head leaves the bytes after it unconsumed (held) so the
    /// body copy starts from this same read; an interim (1xx) head is consumed at once because another head follows.
    /// </summary>
    private UpstreamHeadStatus ParseResponseHead(PipeReader input, in ReadResult r)
    {
        ReadOnlySequence<byte> buffer = r.Buffer;
        if (r.IsCanceled)
        {
            input.AdvanceTo(buffer.Start);
            return _adjust.Clock.WaitExpired ? UpstreamHeadStatus.Timeout : UpstreamHeadStatus.Pending;
        }
        var reader = new SequenceReader<byte>(buffer);
        Http1ParseStatus status = Http1HeadParser.ParseResponse(ref reader, _response, Http1Limits.Default, out _);
        if (status == Http1ParseStatus.Complete)
        {
            int code = _response.StatusCode;
            if (code is >= 100 and < 200 && code != 101)
            {
                input.AdvanceTo(reader.Position);
            }
            else
            {
                _heldResponse = buffer.Slice(reader.Position);
                _heldResponseCompleted = r.IsCompleted;
                _heldReader = input;
            }
            return UpstreamHeadStatus.Ok;
        }
        if (status == Http1ParseStatus.Error)
        {
            input.AdvanceTo(buffer.End);
            return UpstreamHeadStatus.Malformed;
        }
        input.AdvanceTo(reader.Position, buffer.End);
        return r.IsCompleted ? UpstreamHeadStatus.Closed : UpstreamHeadStatus.Pending;
    }

    private async ValueTask ForwardInterimAsync()
    {
        Http1HeadWriter.WriteInterim(_out, _response);
        await _out.FlushAsync();
    }
}
