using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Sidecar.Core.Async;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http;
using Sidecar.Core.Http1;
using Sidecar.Core.Http2;
using Sidecar.Core.Pools;

namespace Sidecar.Core.Proxy.Http2;

/// <summary>
/// One request stream of a downstream HTTP/2 connection, proxied as its own async flow:
/// <list type="number">
/// <item>Route on the chain's snapshot (the stream's head is an <see cref="Sidecar.Core.Http.IRequestView"/>).</item>
/// <item>Answer locally (no route, direct_response, redirect, errors), or</item>
/// <item>forward to the cluster over HTTP/1.1 (<c>.Http1Upstream.cs</c>) or HTTP/2 (<c>.Http2Upstream.cs</c>).</item>
/// </list>
/// The object is pooled by its connection and reused for later streams.
/// </summary>
internal sealed partial class Http2ProxyStream : Http2Stream, IDisposable, IHttp2DataSink
{
    private readonly Http2ProxyConnection _connection;
    private readonly Action _onRunCompleted;
    private ValueTask<bool> _run;
    private bool _started;
    private bool _workDone;
    private volatile UpstreamConnection? _activeUpstream;
    private readonly RequestAdjustments _adjust = new();


    public Http2ProxyStream(Http2ProxyConnection connection)
    {
        _connection = connection;
        _onRunCompleted = OnRunCompleted;
    }

    /// <summary>The connection's chain at this stream's start (the newest published version), for the whole stream.</summary>
    private HttpChainRuntime Chain => _chain ?? _connection.Chain;
    private HttpChainRuntime? _chain;

    public void Begin(int streamId)
    {
        _started = false;
        _workDone = false;
        _activeUpstream = null;
        _connection.StartStream(this, streamId);
    }

    protected internal override void OnHeadersReceived(bool endStream)
    {
        _started = true;
        // Runs inline on the read loop until the first wait; the read loop carries on from there.
        // The ValueTask is kept in a field and consumed exactly once, by OnRunCompleted (no allocation per stream).
#pragma warning disable CA2012
        _run = RunAsync();
#pragma warning restore CA2012
        if (_run.IsCompleted) OnRunCompleted();
        else _run.GetAwaiter().UnsafeOnCompleted(_onRunCompleted);
    }

    private void OnRunCompleted()
    {
        try
        {
            _run.GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
        }
        _run = default;
        FinishWork();
    }

    private void FinishWork()
    {
        if (_workDone) return;
        _workDone = true;
        _connection.OnStreamWorkDone(this);
    }

    protected internal override void OnReset(Http2ErrorCode code)
    {
        // Whatever the upstream is doing for this stream is no longer wanted.
        _activeUpstream?.Abort();
        CancelUpstreamStream();
        if (!_started) FinishWork();
    }

    /// <summary>The request head did not fit SETTINGS_MAX_HEADER_LIST_SIZE: 431, then the stream ends.</summary>
    public void ReplyHeadersTooLarge()
    {
        WriteLocalHead(431, ProxyError.BadRequest, bodyLength: 0, endStream: true);
        _connection.Writer.Kick();
        if (!EndStreamReceived) _connection.ResetStream(this, Http2ErrorCode.NoError);
        else if (!_started) FinishWork();
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> RunAsync()
    {
        _chain = _connection.Chain.Latest;
        var stats = Chain.Stats;
        stats.DownstreamRqTotal.Increment();
        stats.DownstreamRqHttp2Total.Increment();
        stats.DownstreamRqActive.Increment();
        try
        {
            _adjust.ClientCert = _connection.ClientCert;
            PathNormalizeResult path = _adjust.Begin(Head, Chain.Model.PathNormalization);
            if (path != PathNormalizeResult.Unchanged && path != PathNormalizeResult.Rewritten) return await ReplyNormalizationAsync(path);
            var request = new AdjustedRequest<Http2Head>(Head, _adjust);
            RouteModel? route = Chain.Routes.Match(ref request, out VirtualHostModel? vhost);
            if (route is null)
            {
                stats.NoRoute.Increment();
                await ReplyLocalAsync(ProxyError.NoRoute);
                return true;
            }
            if (route.DirectResponse is { } direct)
            {
                stats.RqDirectResponse.Increment();
                await ReplyConfiguredAsync(direct.Status, null, direct.Body);
                return true;
            }
            if (route.Redirect is { } redirect)
            {
                stats.RqRedirect.Increment();
                await ReplyConfiguredAsync(redirect.ResponseCode, RedirectBuilder.Build(redirect, new AdjustedRequest<Http2Head>(Head, _adjust)), default);
                return true;
            }
            RouteActionModel action = route.Action!;
            _adjust.ResolveDeadline(action, Head);
            // The route timeout starts when the request is complete (END_STREAM): now for a bodyless one, else when the
            // body pump reads its end. A tunnel (CONNECT) never ends its request: its clock starts with the head.
            _adjust.StartClock(action, Chain.Model.StreamIdleTimeout, requestComplete: Head.IsConnect || (EndStreamReceived && InboundDataBytes == 0));
            if (Head.IsConnect) return await ConnectAsync(route, vhost!, action);
            await ExchangeAsync(route, vhost!, action);
            return true;
        }
        finally
        {
            stats.DownstreamRqActive.Decrement();
            // §8.1: a response that ends before the request may be followed by RST_STREAM(NO_ERROR).
            if (!EndStreamReceived && !IsReset && EndStreamSent) _connection.ResetStream(this, Http2ErrorCode.NoError);
            else if (!EndStreamSent && !IsReset && !ResetSent) _connection.ResetStream(this, Http2ErrorCode.InternalError);
            await _connection.FlushAsync();
        }
    }

    /// <summary>
    /// CONNECT as the route allows it: terminated here (connect_config), extended CONNECT for WebSocket
    /// (RFC 8441) translated to an HTTP/1.1 upgrade, or forwarded as CONNECT to an HTTP/2 upstream.
    /// </summary>
    private async ValueTask<bool> ConnectAsync(RouteModel route, VirtualHostModel vhost, RouteActionModel action)
    {
        if (Head.HasProtocol)
        {
            if (!action.AllowWebSocket || !Head.Protocol.SequenceEqual("websocket"u8)) return await ReplyLocalAsync(ProxyError.UpgradeFailed);
            if (UpstreamRequests.PeekCluster(Chain, action) is { } c && c.UsesHttp2(downstreamIsHttp2: true)) return await ExchangeAsync(route, vhost, action);
            return await WebSocketToHttp1Async(route, vhost, action);
        }
        if (!action.AllowConnect) return await ReplyLocalAsync(ProxyError.UpgradeFailed);
        if (action.TerminateConnect) return await TerminateConnectAsync(action);
        // Forwarding CONNECT needs a stream upstream: HTTP/2 clusters only (HTTP/1.1 would need a tunnel of its own).
        if (UpstreamRequests.PeekCluster(Chain, action) is { } h2 && h2.UsesHttp2(downstreamIsHttp2: true)) return await ExchangeAsync(route, vhost, action);
        return await ReplyLocalAsync(ProxyError.UpgradeFailed);
    }

    /// <summary>One upstream exchange with the retries the route allows for bodiless requests.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ExchangeAsync(RouteModel route, VirtualHostModel vhost, RouteActionModel action)
    {
        ClusterRuntime? cluster = UpstreamRequests.BeginClusterRequest(Chain, action, out ProxyError refused);
        if (cluster is null)
        {
            await ReplyLocalAsync(refused);
            return true;
        }
        try
        {
            RetryPolicyModel? retry = action.RetryPolicy ?? vhost.RetryPolicy;
            // Only a request whose body ended with its head can be replayed.
            int attemptsLeft = EndStreamReceived && InboundDataBytes == 0 && retry is not null ? retry.NumRetries : 0;
            bool retried = false;
            // A request the upstream provably never processed is retried once even without a retry policy
            // (RFC 9113 §8.7: safe to retry), as Envoy's connection pool does for GOAWAY'd streams.
            bool refusedRetryLeft = true;
            long start = Stopwatch.GetTimestamp();
            while (true)
            {
                cluster.Stats.UpstreamRqTotal.Increment();
                cluster.Stats.UpstreamRqActive.Increment();
                Outcome outcome;
                try
                {
                    outcome = cluster.UsesHttp2(downstreamIsHttp2: true)
                        ? await AttemptHttp2Async(route, vhost, action, cluster, start, retry)
                        : await AttemptHttp1Async(route, vhost, action, cluster, start, retry);
                }
                finally
                {
                    cluster.Stats.UpstreamRqActive.Decrement();
                }
                if (outcome.Error == ProxyError.None) return true;
                if (outcome.Refused && refusedRetryLeft && !IsReset)
                {
                    refusedRetryLeft = false;
                    cluster.Stats.UpstreamRqRetry.Increment();
                    continue;
                }
                if (outcome.Retry && attemptsLeft > 0 && !IsReset)
                {
                    attemptsLeft--;
                    retried = true;
                    cluster.Stats.UpstreamRqRetry.Increment();
                    continue;
                }
                if (outcome.ResponseStarted || IsReset) return true;
                ProxyError error = retried && outcome.Error == ProxyError.UpstreamConnectFailure ? ProxyError.UpstreamRetryLimitExceeded : outcome.Error;
                await ReplyLocalAsync(error);
                return true;
            }
        }
        finally
        {
            cluster.State.ReleaseRequest();
        }
    }

    /// <param name="Refused">The upstream never processed the request (REFUSED_STREAM, or above a GOAWAY's last stream id).</param>
    private readonly record struct Outcome(ProxyError Error, bool Retry, bool ResponseStarted, bool Refused = false);

    private static bool CanRetry(RetryPolicyModel? retry, ProxyError error) => retry is not null && error switch
    {
        ProxyError.UpstreamConnectFailure or ProxyError.NoHealthyUpstream => (retry.RetryOn & (RetryOn.ConnectFailure | RetryOn.FiveXx | RetryOn.GatewayError | RetryOn.Reset)) != 0,
        ProxyError.UpstreamConnectionTermination => (retry.RetryOn & (RetryOn.Reset | RetryOn.FiveXx | RetryOn.GatewayError)) != 0,
        ProxyError.UpstreamRequestTimeout => retry.PerTryTimeout > TimeSpan.Zero,
        _ => false,
    };

    // ---- local replies ----

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ReplyLocalAsync(ProxyError error)
    {
        if (_adjust.IsGrpc) return await ReplyGrpcLocalAsync(error);
        int status = LocalReply.StatusCode(error, Http1Error.None);
        byte[] body = LocalReplyBodies.Get(error);
        WriteLocalHead(status, error, body.Length, endStream: body.Length == 0);
        if (body.Length > 0) return await _connection.WriteDataAsync(this, new ReadOnlySequence<byte>(body), endStream: true);
        await _connection.FlushAsync();
        return true;
    }

    private void WriteLocalHead(int status, ProxyError error, int bodyLength, bool endStream)
    {
        Chain.Stats.CountResponse(status);
        IBufferWriter<byte>? block = _connection.BeginHeaders(this);
        if (block is null) return;
        var enc = _connection.Writer.Encoder;
        Http2Fields.Status(enc, block, status);
        Http2Fields.Number(enc, block, "content-length"u8, bodyLength);
        if (bodyLength > 0) enc.Encode("content-type"u8, "text/plain"u8, false, block);
        enc.Encode("x-sidecar-response-flags"u8, error.ShortNameUtf8(), false, block);
        enc.Encode("server"u8, Chain.ServerName, false, block);
        _connection.EndHeaders(this, endStream);
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ReplyConfiguredAsync(int status, byte[]? location, ReadOnlyMemory<byte> body)
    {
        Chain.Stats.CountResponse(status);
        IBufferWriter<byte>? block = _connection.BeginHeaders(this);
        if (block is null) return false;
        var enc = _connection.Writer.Encoder;
        Http2Fields.Status(enc, block, status);
        if (location is not null) enc.Encode("location"u8, location, false, block);
        Http2Fields.Number(enc, block, "content-length"u8, body.Length);
        if (!body.IsEmpty) enc.Encode("content-type"u8, "text/plain"u8, false, block);
        enc.Encode("server"u8, Chain.ServerName, false, block);
        _connection.EndHeaders(this, endStream: body.IsEmpty);
        if (!body.IsEmpty) return await _connection.WriteDataAsync(this, new ReadOnlySequence<byte>(body), endStream: true);
        await _connection.FlushAsync();
        return true;
    }

    // ---- deadlines ----

    /// <summary>Makes a body pump parked on the client's DATA return (the exchange is over without the rest of the body).</summary>
    private void StopBodyPump() => InboundBody.CancelPendingRead();

    /// <summary>Called by the connection's heartbeat for each open stream.</summary>
    public void OnHeartbeat(long nowMs)
    {
        // The clock cancels an HTTP/1.1 upstream's read itself; an HTTP/2 upstream's stream is ours to cancel.
        if (_adjust.Clock.TryExpire(nowMs)) CancelUpstreamStream();
    }

    public void Dispose()
    {
        Head.Dispose();
        Trailers.Dispose();
        _adjust.Dispose();
        _response.Dispose();
    }
}

/// <summary>Local reply bodies as arrays (DATA frames are written from memory that outlives a wait for window).</summary>
internal static class LocalReplyBodies
{
    private static readonly byte[]?[] Cache = new byte[64][];

    public static byte[] Get(ProxyError error)
    {
        int i = (int)error;
        if ((uint)i >= (uint)Cache.Length) return LocalReply.BodyOf(error, Http1Error.None).ToArray();
        return Cache[i] ??= LocalReply.BodyOf(error, Http1Error.None).ToArray();
    }
}
