using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Sidecar.Core.Async;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http1;
using Sidecar.Core.Http2;
using Sidecar.Core.Pools;

namespace Sidecar.Core.Proxy.Http2;

internal sealed partial class Http2ProxyStream
{
    /// <summary>
    /// CONNECT terminated here (RFC 9113 §8.5; route upgrade_configs CONNECT with connect_config, as
    /// Envoy — and the shape HBONE uses): a TCP connection to the route's cluster, :status 200, then
    /// DATA ↔ bytes. END_STREAM half-closes the TCP side; TCP EOF ends the stream; a reset of either
    /// side resets the other (RST_STREAM CONNECT_ERROR towards the client, §8.5).
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> TerminateConnectAsync(RouteActionModel action)
    {
        ClusterRuntime? cluster = UpstreamRequests.BeginClusterRequest(Chain, action, out ProxyError refused);
        if (cluster is null) return await ReplyLocalAsync(refused);
        UpstreamConnection? upstream = null;
        try
        {
            cluster.Stats.UpstreamRqTotal.Increment();
            (upstream, ProxyError error) = await UpstreamRequests.GetHttp1ConnectionAsync(cluster, _connection.Services, _connection.OriginalDestination, allowPooled: false);
            if (upstream is null) return await ReplyLocalAsync(error);
            _activeUpstream = upstream;
            cluster.Stats.CountResponse(200);
            return await AnswerTunnelAsync(upstream);
        }
        finally
        {
            _activeUpstream = null;
            if (upstream is not null) await upstream.DisposeAsync();
            cluster.State.ReleaseRequest();
        }
    }

    /// <summary>:status 200 without END_STREAM (the tunnel is open, §8.5), then the relay.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AnswerTunnelAsync(UpstreamConnection upstream)
    {
        IBufferWriter<byte>? block = _connection.BeginHeaders(this);
        if (block is null) return false;
        Http2Fields.Status(_connection.Writer.Encoder, block, 200);
        _connection.Writer.Encoder.Encode("server"u8, Chain.ServerName, false, block);
        _connection.EndHeaders(this, endStream: false);
        Chain.Stats.CountResponse(200);
        Chain.Stats.DownstreamCxUpgradesTotal.Increment();
        await _connection.FlushAsync();
        return await TunnelAsync(upstream);
    }

    /// <summary>Relays the stream's DATA to a raw upstream connection and back until both directions end.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> TunnelAsync(UpstreamConnection upstream)
    {
        ValueTask<bool> up = PumpStreamToRawAsync(upstream);
        bool down = await PumpRawToStreamAsync(upstream.Input);
        if (!down && !IsReset) _connection.ResetStream(this, Http2ErrorCode.ConnectError);
        if (!up.IsCompleted && !down) upstream.Abort();
        return await up && down;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> PumpStreamToRawAsync(UpstreamConnection connection)
    {
        PipeReader body = InboundBody;
        PipeWriter upstream = connection.Output;
        try
        {
            while (true)
            {
                ReadResult r = await body.ReadAsync();
                ReadOnlySequence<byte> buffer = r.Buffer;
                foreach (ReadOnlyMemory<byte> segment in buffer) upstream.Write(segment.Span);
                int n = (int)buffer.Length;
                body.AdvanceTo(buffer.End);
                ConsumeInbound(n);
                FlushResult f = await upstream.FlushAsync();
                if (r.IsCompleted)
                {
                    // END_STREAM: the client is done sending; the upstream sees a FIN and its answer still flows back.
                    // Our transport sends that FIN when its output is completed, after the last queued byte; Kestrel's
                    // would close both directions, so there the socket is shut down for sending instead.
                    if (connection.Context is not Transport.Sockets.EpollConnection
                        && connection.Context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionSocketFeature>()?.Socket is { } socket)
                        socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
                    else await upstream.CompleteAsync();
                    return true;
                }
                if (f.IsCompleted) return false;
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> PumpRawToStreamAsync(PipeReader upstream)
    {
        try
        {
            while (true)
            {
                ReadResult r = await upstream.ReadAsync();
                ReadOnlySequence<byte> buffer = r.Buffer;
                bool sent = await _connection.WriteDataAsync(this, buffer, endStream: r.IsCompleted);
                upstream.AdvanceTo(buffer.End);
                if (!sent) return false;
                if (r.IsCompleted) return true;
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// RFC 8441 extended CONNECT (:protocol websocket) to an HTTP/1.1 upstream: sent as the RFC 6455
    /// upgrade GET (a Sec-WebSocket-Key is made up when the h2 client, which has none, sent none);
    /// the 101 becomes :status 200 and the connection becomes a tunnel for the stream.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WebSocketToHttp1Async(RouteModel route, VirtualHostModel vhost, RouteActionModel action)
    {
        ClusterRuntime? cluster = UpstreamRequests.BeginClusterRequest(Chain, action, out ProxyError refused);
        if (cluster is null) return await ReplyLocalAsync(refused);
        UpstreamConnection? upstream = null;
        try
        {
            cluster.Stats.UpstreamRqTotal.Increment();
            (upstream, ProxyError error) = await UpstreamRequests.GetHttp1ConnectionAsync(cluster, _connection.Services, _connection.OriginalDestination, allowPooled: false);
            if (upstream is null) return await ReplyLocalAsync(error);
            _activeUpstream = upstream;
            Http2ToHttp1.WriteWebSocketUpgrade(upstream.Output, Head, route, vhost, action, Chain, _connection.ClientAddress, _adjust);
            await upstream.Output.FlushAsync();
            ProxyError headError = await ReadHttp1ResponseHeadAsync(upstream, allowSwitch: true);
            if (headError != ProxyError.None) return await ReplyLocalAsync(headError);
            int code = _response.StatusCode;
            cluster.Stats.CountResponse(code);
            if (code != 101)
            {
                // Refused upgrade: the answer is forwarded as an ordinary response.
                BodyFraming framing = Http1HeadParser.ResponseFraming(_response, Sidecar.Core.Http.KnownMethod.Get);
                IBufferWriter<byte>? refusedBlock = _connection.BeginHeaders(this);
                if (refusedBlock is null) return false;
                Http2Fields.ResponseFromHttp1(_connection.Writer.Encoder, refusedBlock, _response, route, vhost, Chain, System.Diagnostics.Stopwatch.GetTimestamp());
                _connection.EndHeaders(this, endStream: framing == BodyFraming.None);
                Chain.Stats.CountResponse(code);
                return framing == BodyFraming.None || await ForwardHttp1BodyAsync(upstream, framing);
            }
            return await AnswerTunnelAsync(upstream);
        }
        finally
        {
            _activeUpstream = null;
            if (upstream is not null) await upstream.DisposeAsync();
            cluster.State.ReleaseRequest();
        }
    }
}
