using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Sidecar.Core.Lifecycle;
using Sidecar.Core.Proxy;
using Sidecar.Core.Transport;

namespace Sidecar.Core.Tcp;

/// <summary>
/// envoy.filters.network.tcp_proxy: relays bytes between the downstream connection and one upstream,
/// preserving half-close — when one side shuts down its sending direction, we shut down ours towards
/// the other side and keep relaying the opposite direction until it ends too. Idle connections are
/// closed after idle_timeout (Envoy default 1 h).
/// On our transport (the default) both sides are pipe connections: bytes move from one side's receive blocks
/// (32 KiB) into the other side's send blocks, and completing a side's output is its half-close (FIN after the
/// last byte). On Kestrel's transport (SIDECAR_TRANSPORT=kestrel), whose pipes cannot half-close, the relay
/// drives the raw sockets instead.
/// </summary>
internal sealed class TcpProxySession : IHeartbeatTarget
{
    private const int UpstreamReadBufferSize = 64 * 1024;
    /// <summary>The most plaintext one TLS record carries (RFC 8446 §5.1).</summary>
    private const int TlsRecordPayload = 16 * 1024;
    private readonly ConnectionContext _downstream;
    private readonly TcpChainRuntime _chain;
    private readonly ProxyServices _services;
    private long _lastActivity = Environment.TickCount64;
    private Socket? _upstream;
    private ConnectionContext? _upstreamConnection;
    private volatile bool _idleTimedOut;

    private readonly System.Net.IPEndPoint? _originalDestination;

    public TcpProxySession(ConnectionContext downstream, TcpChainRuntime chain, ProxyServices services, System.Net.IPEndPoint? originalDestination)
    {
        _originalDestination = originalDestination;
        _downstream = downstream;
        _chain = chain;
        _services = services;
    }

    public async Task RunAsync()
    {
        var stats = _chain.Stats;
        stats.DownstreamCxTotal.Increment();
        if (_services.Transport.Kind == TransportKind.Epoll)
        {
            await RunOverPipesAsync();
            return;
        }
        Socket? downSocket = _downstream.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (downSocket is null || !_chain.Snapshot.Clusters.TryGetValue(PickClusterName(), out ClusterRuntime? cluster))
        {
            stats.DownstreamCxNoRoute.Increment();
            _downstream.Abort();
            return;
        }

        Socket? up = null;
        Tls.MeshTlsStream? upTls = null;
        for (int attempt = 0; attempt < Math.Max(1, _chain.Model.MaxConnectAttempts) && up is null; attempt++)
        {
            var endpoint = cluster.PickEndpoint(_originalDestination);
            if (endpoint is null) break;
            cluster.Stats.UpstreamCxTotal.Increment();
            var (result, socket) = await UpstreamConnector.ConnectSocketAsync(endpoint.Address, cluster.Model.ConnectTimeout, _services.Transport.UpstreamMark, cluster.Model.UpstreamBind, _services.Drain.Force);
            if (result == ConnectResult.Connected && cluster.TlsFor(endpoint) is { } tls)
            {
                // Upstream transport_socket: a failed handshake counts as a failed connect attempt.
                upTls = await tls.HandshakeAsync(socket!, _services.Drain.Force);
                if (upTls is null)
                {
                    socket!.Dispose();
                    result = ConnectResult.Refused;
                }
            }
            if (RecordConnect(cluster, endpoint, result)) up = socket;
        }
        if (up is null)
        {
            // Envoy closes the downstream (FIN, not RST) when no upstream connection can be made;
            // the listener completes the pipes, which shuts the socket down cleanly.
            stats.UpstreamConnectFail.Increment();
            return;
        }
        _upstream = up;
        cluster.Stats.UpstreamCxActive.Increment();
        _services.Heartbeat.Register(this);
        using var force = _services.Drain.Force.UnsafeRegister(static s => ((TcpProxySession)s!).Abort(), this);
        try
        {
            Task toUpstream = DownstreamToUpstreamAsync(_downstream.Transport.Input, up, upTls);
            Task toDownstream = UpstreamToDownstreamAsync(up, upTls, downSocket, _downstream as TlsConnection);
            await Task.WhenAll(toUpstream, toDownstream);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException or ConnectionResetException)
        {
            // A reset on either side ends the relay; both sockets are closed below.
        }
        finally
        {
            _services.Heartbeat.Unregister(this);
            if (_idleTimedOut) stats.IdleTimeout.Increment();
            cluster.Stats.UpstreamCxActive.Decrement();
            cluster.Stats.UpstreamCxDestroy.Increment();
            if (upTls is not null) await upTls.DisposeAsync();
            up.Dispose();
            await _downstream.Transport.Input.CompleteAsync();
            await _downstream.Transport.Output.CompleteAsync();
        }
    }

    private async Task DownstreamToUpstreamAsync(PipeReader input, Socket up, Stream? upTls)
    {
        byte[]? record = null;
        try
        {
            while (true)
            {
                ReadResult r = await input.ReadAsync();
                ReadOnlySequence<byte> buffer = r.Buffer;
                if (upTls is not null)
                {
                    // The transport hands us 4 KiB segments; one TLS record carries up to 16 KiB, so gather them
                    // first: a quarter of the records, encryptions and socket writes.
                    record ??= ArrayPool<byte>.Shared.Rent(TlsRecordPayload);
                    for (ReadOnlySequence<byte> rest = buffer; !rest.IsEmpty;)
                    {
                        int n = (int)Math.Min(rest.Length, TlsRecordPayload);
                        rest.Slice(0, n).CopyTo(record);
                        await upTls.WriteAsync(record.AsMemory(0, n));
                        rest = rest.Slice(n);
                    }
                }
                else
                {
                    foreach (ReadOnlyMemory<byte> segment in buffer)
                    {
                        int sent = 0;
                        while (sent < segment.Length) sent += await up.SendAsync(segment[sent..], SocketFlags.None);
                    }
                }
                _chain.Stats.DownstreamCxRxBytesTotal.Add(buffer.Length);
                input.AdvanceTo(buffer.End);
                Touch();
                if (r.IsCompleted || r.IsCanceled) break;
            }
            // Downstream half-closed: pass the FIN on (after TLS close_notify), keep reading the other direction.
            if (upTls is System.Net.Security.SslStream ssl) await ssl.ShutdownAsync();
            up.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or ConnectionResetException or IOException)
        {
            Abort();
        }
        finally
        {
            if (record is not null) ArrayPool<byte>.Shared.Return(record);
        }
    }

    private async Task UpstreamToDownstreamAsync(Socket up, Stream? upTls, Socket down, TlsConnection? downTls)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(UpstreamReadBufferSize);
        try
        {
            while (true)
            {
                int n = upTls is not null ? await upTls.ReadAsync(buffer) : await up.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0) break;
                if (downTls is not null)
                {
                    FlushResult f = await downTls.Transport.Output.WriteAsync(buffer.AsMemory(0, n));
                    if (f.IsCompleted) break;
                }
                else
                {
                    int sent = 0;
                    while (sent < n) sent += await down.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None);
                }
                _chain.Stats.DownstreamCxTxBytesTotal.Add(n);
                Touch();
            }
            if (downTls is not null) await downTls.Stream.ShutdownAsync();
            down.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            Abort();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private string PickClusterName() =>
        _chain.Model.WeightedClusters.IsDefaultOrEmpty ? _chain.Model.Cluster : Routing.WeightedClusterPicker.Shared.Pick(_chain.Model.WeightedClusters);

    /// <summary>Outlier/health bookkeeping and stats for one connect attempt; true when it connected.</summary>
    private static bool RecordConnect(ClusterRuntime cluster, Balancing.EndpointState endpoint, ConnectResult result)
    {
        if (result == ConnectResult.Connected)
        {
            Balancing.ClusterState.ReportConnectSuccess(endpoint);
            return true;
        }
        cluster.State.ReportConnectFailure(endpoint);
        cluster.Stats.UpstreamCxConnectFail.Increment();
        return false;
    }

    private async Task RunOverPipesAsync()
    {
        var stats = _chain.Stats;
        if (!_chain.Snapshot.Clusters.TryGetValue(PickClusterName(), out ClusterRuntime? cluster))
        {
            stats.DownstreamCxNoRoute.Increment();
            _downstream.Abort();
            return;
        }
        ConnectionContext? up = null;
        for (int attempt = 0; attempt < Math.Max(1, _chain.Model.MaxConnectAttempts) && up is null; attempt++)
        {
            var endpoint = cluster.PickEndpoint(_originalDestination);
            if (endpoint is null) break;
            cluster.Stats.UpstreamCxTotal.Increment();
            var (result, connection) = await _services.Connector.ConnectAsync(endpoint.Address, cluster.Model.ConnectTimeout, cluster.Model.UpstreamBind, _services.Drain.Force);
            if (result == ConnectResult.Connected && cluster.TlsFor(endpoint) is { } tls)
            {
                // Upstream transport_socket: a failed handshake counts as a failed connect attempt.
                (TlsConnection? secured, _) = await tls.HandshakeAsync(connection!, _services.Drain.Force);
                if (secured is null)
                {
                    await connection!.DisposeAsync();
                    result = ConnectResult.Refused;
                }
                else connection = secured;
            }
            if (RecordConnect(cluster, endpoint, result)) up = connection;
        }
        if (up is null)
        {
            // Envoy closes the downstream (FIN, not RST) when no upstream connection can be made.
            stats.UpstreamConnectFail.Increment();
            return;
        }
        _upstreamConnection = up;
        cluster.Stats.UpstreamCxActive.Increment();
        _services.Heartbeat.Register(this);
        using var force = _services.Drain.Force.UnsafeRegister(static s => ((TcpProxySession)s!).Abort(), this);
        try
        {
            Task toUpstream = PumpAsync(_downstream, up, stats.DownstreamCxRxBytesTotal);
            Task toDownstream = PumpAsync(up, _downstream, stats.DownstreamCxTxBytesTotal);
            await Task.WhenAll(toUpstream, toDownstream);
        }
        finally
        {
            _services.Heartbeat.Unregister(this);
            if (_idleTimedOut) stats.IdleTimeout.Increment();
            cluster.Stats.UpstreamCxActive.Decrement();
            cluster.Stats.UpstreamCxDestroy.Increment();
            await up.DisposeAsync();
            await _downstream.Transport.Input.CompleteAsync();
            await _downstream.Transport.Output.CompleteAsync();
        }
    }

    /// <summary>
    /// One direction: copy what <paramref name="from"/> received into <paramref name="to"/>'s output (whole receive
    /// blocks at a time), then pass its end of stream on as a half-close and keep the other direction going.
    /// </summary>
    private async Task PumpAsync(ConnectionContext from, ConnectionContext to, Telemetry.Counter bytes)
    {
        PipeReader input = from.Transport.Input;
        PipeWriter output = to.Transport.Output;
        try
        {
            while (true)
            {
                ReadResult r = await input.ReadAsync();
                ReadOnlySequence<byte> buffer = r.Buffer;
                bool hadData = !buffer.IsEmpty;
                foreach (ReadOnlyMemory<byte> segment in buffer) output.Write(segment.Span);
                bytes.Add(buffer.Length);
                input.AdvanceTo(buffer.End);
                if (hadData)
                {
                    Touch();
                    FlushResult f = await output.FlushAsync();
                    if (f.IsCompleted)
                    {
                        // The receiving side is gone (reset): nothing more can be delivered in either direction.
                        Abort();
                        return;
                    }
                }
                if (r.IsCompleted || r.IsCanceled) break;
            }
            await HalfCloseAsync(to);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException or OperationCanceledException)
        {
            Abort();
        }
    }

    /// <summary>FIN towards <paramref name="side"/> after the last byte; over TLS, close_notify first.</summary>
    private static async ValueTask HalfCloseAsync(ConnectionContext side)
    {
        if (side is TlsConnection tls)
        {
            await tls.Stream.ShutdownAsync();
            await tls.Inner.Transport.Output.CompleteAsync();
            return;
        }
        await side.Transport.Output.CompleteAsync();
    }

    private void Touch() => Volatile.Write(ref _lastActivity, Environment.TickCount64);

    public void OnHeartbeat(long nowMs)
    {
        TimeSpan idle = _chain.Model.IdleTimeout;
        if (idle <= TimeSpan.Zero) return;
        if (nowMs - Volatile.Read(ref _lastActivity) > (long)idle.TotalMilliseconds)
        {
            _idleTimedOut = true;
            Abort();
        }
    }

    private void Abort()
    {
        _upstreamConnection?.Abort();
        try
        {
            _upstream?.Close(0);
        }
        catch (ObjectDisposedException)
        {
        }
        _downstream.Abort();
    }
}
