using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Sidecar.Core.Async;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http1;
using Sidecar.Core.Http2;
using Sidecar.Core.Pools;
using Sidecar.Core.Proxy.Http2;

namespace Sidecar.Core.Proxy;

internal sealed partial class Http1ProxySession
{
    private ChunkedDecoder _h2RequestChunks;

    /// <summary>
    /// An HTTP/1.1 request to a cluster that speaks HTTP/2 (explicit h2, as Envoy sends it whatever the
    /// client spoke): the head becomes a HEADERS block (RFC 9113 §8.3.1), the body DATA frames (chunked
    /// decoded), and the response comes back as an HTTP/1.1 head with content-length kept or chunked framing.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<AttemptOutcome> AttemptHttp2Async(RouteModel route, VirtualHostModel vhost, RouteActionModel action,
        ClusterRuntime cluster, long start, RetryPolicyModel? retry, bool canRetry)
    {
        (Http2UpstreamConnection? connection, Balancing.EndpointState? endpoint, ProxyError error) =
            await UpstreamRequests.GetHttp2ConnectionAsync(cluster, _services, _originalDestination);
        bool bodiless = _request.Framing == BodyFraming.None;
        if (connection is null) return new AttemptOutcome(error, false, canRetry && bodiless && retry is not null, false, bodiless);
        (Http2UpstreamStream up, IBufferWriter<byte> block) = connection.BeginRequest();
        Http2Fields.RequestFromHttp1(connection.Output.Encoder, block, _request, route, vhost, action, _chain, _clientAddress, _adjust);
        connection.EndRequestHeaders(up, endStream: bodiless);
        endpoint!.BeginRequest();
        ResponseDeadline clock = _adjust.Clock;
        clock.BeginTry(retry is not null ? retry.PerTryTimeout : TimeSpan.Zero);
        try
        {
            if (!bodiless)
            {
                // While the body is read the clock bounds a client that stops sending (and a stream duration); it
                // cancels the read of the client's pipe.
                clock.StartWait(_in);
                bool sent = await SendBodyAsDataAsync(connection, up);
                DeadlineExpiry expired = clock.EndWait();
                if (expired != DeadlineExpiry.None)
                {
                    return new AttemptOutcome(expired.ToProxyError(), false, false, false, false);
                }
                if (!sent)
                {
                    return new AttemptOutcome(_requestBodyTooLarge ? ProxyError.RequestBodyTooLarge : ProxyError.UpstreamConnectionTermination, false, false, false, false);
                }
            }
            // The whole body is sent before the head is awaited, so the request is complete here: what is left of the
            // route timeout (from the end of the request) and this try's per_try_timeout is a field the upstream
            // connection's heartbeat reads, no timer per request.
            clock.RequestComplete();
            up.ArmHeadTimeout(clock.Remaining(Environment.TickCount64));
            await up.HeadSignal.WaitAsync();
            up.DisarmHeadTimeout();
            if (!up.HeadReceived)
            {
                bool timedOut = up.HeadTimedOut && !up.IsReset;
                DeadlineExpiry expired = timedOut ? clock.NoteExpired(Environment.TickCount64) : DeadlineExpiry.None;
                if (timedOut) cluster.Stats.CountTimeout(expired);
                // Only a try's own timeout is retried: the route timeout and a stream duration end the request.
                bool retryTimeout = expired == DeadlineExpiry.PerTryTimeout;
                up.Cancel();
                ProxyError e = timedOut ? ProxyError.UpstreamRequestTimeout : ProxyError.UpstreamConnectionTermination;
                bool retryable = timedOut ? retryTimeout : up.Refused || retry is not null;
                return new AttemptOutcome(e, false, canRetry && bodiless && retryable, false, true);
            }
            Http2Head response = up.Head;
            cluster.Stats.CountResponse(response.StatusCode);
            bool headOnly = _request.KnownMethod == Http.KnownMethod.Head || response.StatusCode is 204 or 304;
            bool hasLength = response.ContentLength >= 0;
            bool chunkOut = !headOnly && !hasLength && _request.Version == Http1Version.Http11;
            bool close = ShouldClose || (!headOnly && !hasLength && !chunkOut);
            WriteResponseHeadFromHttp2(response, route, vhost, start, chunkOut, close);
            _chain.Stats.CountResponse(response.StatusCode);
            bool ok = headOnly || await ForwardDataAsBodyAsync(up, chunkOut);
            FlushResult f = await _out.FlushAsync();
            if (!ok) return new AttemptOutcome(ProxyError.UpstreamConnectionTermination, false, false, true, true);
            return new AttemptOutcome(ProxyError.None, !close && !f.IsCompleted, false, true, true);
        }
        finally
        {
            if (!up.EndStreamReceived || !up.EndStreamSent) up.Cancel();
            endpoint.EndRequest();
            connection.CompleteStreamWork(up);
        }
    }

    /// <summary>The request body (content-length or chunked) as DATA frames, as the upstream's windows allow.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> SendBodyAsDataAsync(Http2UpstreamConnection connection, Http2UpstreamStream up)
    {
        long remaining = _request.ContentLength;
        _h2RequestChunks.Reset();
        if (_request.ExpectContinue && _request.Version == Http1Version.Http11)
        {
            // As for HTTP/1.1 upstreams: we answer 100-continue ourselves (Expect is not forwarded).
            _out.Write("HTTP/1.1 100 Continue\r\n\r\n"u8);
            await _out.FlushAsync();
        }
        while (true)
        {
            ReadResult r = await _in.ReadAsync();
            ReadOnlySequence<byte> buffer = r.Buffer;
            if (r.IsCanceled)
            {
                _in.AdvanceTo(buffer.Start);
                // The request's clock expired (see AttemptHttp2Async); any other cancel is stray: read on.
                if (_adjust.Clock.WaitExpired) return false;
                continue;
            }
            _adjust.Clock.BodyProgress();
            if (_request.Framing == BodyFraming.ContentLength)
            {
                long take = Math.Min(buffer.Length, remaining);
                remaining -= take;
                bool sent = await connection.WriteDataAsync(up, buffer.Slice(0, take), endStream: remaining == 0);
                _in.AdvanceTo(buffer.GetPosition(take));
                if (!sent) return false;
                if (remaining == 0) return true;
            }
            else
            {
                ReadOnlySequence<byte> rest = buffer;
                while (true)
                {
                    var reader = new SequenceReader<byte>(rest);
                    ChunkedStatus step = _h2RequestChunks.Read(ref reader, out ReadOnlySequence<byte> data, out _);
                    SequencePosition position = reader.Position;
                    if (step == ChunkedStatus.NeedMore)
                    {
                        _in.AdvanceTo(position, buffer.End);
                        break;
                    }
                    if (step == ChunkedStatus.Error)
                    {
                        _in.AdvanceTo(buffer.End);
                        return false;
                    }
                    if (step == ChunkedStatus.Done)
                    {
                        _in.AdvanceTo(position);
                        // Request trailers are not forwarded to HTTP/2 upstreams (documented); the stream just ends.
                        return await connection.WriteDataAsync(up, ReadOnlySequence<byte>.Empty, endStream: true);
                    }
                    if (step == ChunkedStatus.Data && !await connection.WriteDataAsync(up, data, endStream: false))
                    {
                        _in.AdvanceTo(position);
                        return false;
                    }
                    rest = rest.Slice(position);
                }
            }
            if (r.IsCompleted) return false;
        }
    }

    private void WriteResponseHeadFromHttp2(Http2Head response, RouteModel route, VirtualHostModel vhost, long start, bool chunkOut, bool close)
    {
        PipeWriter w = _out;
        LocalReply.WriteStatusLine(w, response.StatusCode);
        RouteConfigModel rc = _chain.Model.RouteConfig;
        for (int i = 0; i < response.HeaderCount; i++)
        {
            ReadOnlySpan<byte> name = response.GetHeaderName(i);
            if (name.SequenceEqual("server"u8)) continue;
            if (HeaderMutations.IsRemovedOrOverwritten(name, route.ResponseHeaders, vhost.ResponseHeaders, rc.ResponseHeaders)) continue;
            LocalReply.WriteHeader(w, name, response.GetHeaderValue(i));
        }
        LocalReply.WriteHeader(w, "server"u8, _chain.ServerName);
        LocalReply.WriteHeader(w, "x-envoy-upstream-service-time"u8, (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        if (chunkOut) w.Write("transfer-encoding: chunked\r\n"u8);
        if (close) w.Write("connection: close\r\n"u8);
        foreach (HeaderValueOptionModel add in route.ResponseHeaders.Add) w.Write(add.Line);
        foreach (HeaderValueOptionModel add in vhost.ResponseHeaders.Add) w.Write(add.Line);
        foreach (HeaderValueOptionModel add in rc.ResponseHeaders.Add) w.Write(add.Line);
        w.Write("\r\n"u8);
    }

    /// <summary>Response DATA as the HTTP/1.1 body; trailers become the chunked trailer section.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ForwardDataAsBodyAsync(Http2UpstreamStream up, bool chunkOut)
    {
        PipeReader body = up.InboundBody;
        try
        {
            while (true)
            {
                ReadResult r = await body.ReadAsync();
                ReadOnlySequence<byte> buffer = r.Buffer;
                if (!buffer.IsEmpty)
                {
                    if (chunkOut) WriteChunkHeader(_out, buffer.Length);
                    Write(_out, buffer);
                    if (chunkOut) _out.Write("\r\n"u8);
                }
                int n = (int)buffer.Length;
                body.AdvanceTo(buffer.End);
                up.ConsumeInbound(n);
                if (r.IsCompleted)
                {
                    if (chunkOut) Http2ToHttp1.WriteLastChunk(_out, up.HasTrailers ? up.Trailers : null);
                    return true;
                }
                FlushResult f = await _out.FlushAsync();
                if (f.IsCompleted) return false;
            }
        }
        catch (Http2StreamResetException)
        {
            return false;
        }
    }
}
