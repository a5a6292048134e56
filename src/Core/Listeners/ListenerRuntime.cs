using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Sidecar.Core.Detect;
using Sidecar.Core.Http2;
using Sidecar.Core.Proxy.Http2;
using Microsoft.AspNetCore.Connections;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Proxy;
using Sidecar.Core.Tcp;
using Sidecar.Core.Telemetry;
using Sidecar.Core.Transport;

namespace Sidecar.Core.Listeners;

/// <summary>
/// One bound listener: accepts connections, picks the filter chain, and starts the session for it.
/// The accept loop only dispatches; each connection runs on its own async flow.
/// </summary>
public sealed class ListenerRuntime : IAsyncDisposable
{
    private readonly ListenerModel _bound;
    private readonly ProxyServices _services;
    private readonly StatsStore _statsStore;
    private readonly ListenerStats _stats;
    private volatile ListenerChains _chains;
    private IConnectionListener? _listener;
    private Task? _acceptLoop;

    private readonly ListenerRegistry? _registry;

    /// <exception cref="TlsBindingException">a chain's TLS context needs a certificate source that is not there.</exception>
    public ListenerRuntime(ListenerModel model, ProxySnapshot snapshot, ProxyServices services, StatsStore stats, ListenerRegistry? registry = null)
    {
        _registry = registry;
        _bound = model;
        _services = services;
        _statsStore = stats;
        _stats = new ListenerStats(stats, model.Address.Address + "_" + model.Address.Port);
        _chains = new ListenerChains(model, snapshot, stats, services.Tls);
    }

    /// <summary>The current definition (it may have been updated since the socket was bound).</summary>
    public ListenerModel Model => _chains.Model;
    public EndPoint? BoundEndPoint => _listener?.EndPoint;

    /// <summary>Whether <paramref name="model"/> can replace this listener's definition without a new socket.</summary>
    public bool CanUpdateInPlace(ListenerModel model) =>
        model.Address.Equals(_bound.Address) && model.Transparent == _bound.Transparent && model.Freebind == _bound.Freebind
        && model.BindToPort == _bound.BindToPort;

    /// <summary>Compiles <paramref name="model"/>'s chains against <paramref name="snapshot"/> (may throw; nothing changes then).</summary>
    public ListenerChains Compile(ListenerModel model, ProxySnapshot snapshot) => new(model, snapshot, _statsStore, _services.Tls);

    /// <summary>
    /// Publishes compiled chains: new connections use them; open HTTP connections move to their chain's successor at
    /// their next request (see <see cref="ListenerChains.HandOver"/>); tcp_proxy connections keep theirs.
    /// </summary>
    public void Publish(ListenerChains chains)
    {
        ListenerChains old = _chains;
        _chains = chains;
        old.HandOver(chains);
    }

    public async Task StartAsync(CancellationToken ct)
    {
        _listener = await SocketListener.BindAsync(_bound.Address, _services.Transport, new ListenSocketOptions(_bound.Transparent, _bound.Freebind), ct);
        _acceptLoop = AcceptLoopAsync(_listener);
    }

    private async Task AcceptLoopAsync(IConnectionListener listener)
    {
        while (true)
        {
            ConnectionContext? connection;
            try
            {
                connection = await listener.AcceptAsync();
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            if (connection is null) return;
            int maxConnections = _chains.Model.MaxConnections;
            if (maxConnections > 0 && _stats.DownstreamCxActive.Value >= maxConnections)
            {
                _stats.DownstreamCxOverflow.Increment();
                connection.Abort();
                _ = connection.DisposeAsync().AsTask();
                continue;
            }
            _ = RunConnectionAsync(connection);
        }
    }

    private async Task RunConnectionAsync(ConnectionContext connection)
    {
        _services.Drain.ConnectionOpened();
        try
        {
            // :: original_dst — read where the client was going before capture, and hand the connection
            // to the listener bound there (else it stays here, as in Envoy's virtual outbound listener).
            // TPROXY captures keep the original destination as the socket's local address instead.
            IPEndPoint? originalDestination = null;
            ListenerRuntime owner = this;
            ListenerModel model = _chains.Model;
            // The original_dst listener filter alone only recovers the destination (for chain matching and
            // ORIGINAL_DST clusters, as Istio's virtualInbound uses it); use_original_dst also hands off.
            if ((model.UseOriginalDst || model.OriginalDstFilter)
                && connection.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionSocketFeature>()?.Socket is { } socket
                && Sidecar.Native.Sockets.OriginalDestination.TryGet(socket, (_listener?.EndPoint as IPEndPoint) ?? _bound.Address, out originalDestination)
                && originalDestination is not null)
            {
                ListenerRuntime? target = model.UseOriginalDst ? _registry?.Find(originalDestination) : null;
                if (target is not null && target != this) owner = target;
            }
            await owner.ServeAsync(connection, originalDestination);
        }
        finally
        {
            try
            {
                await connection.Transport.Input.CompleteAsync();
                await connection.Transport.Output.CompleteAsync();
                await connection.DisposeAsync();
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
            {
            }
            _services.Drain.ConnectionClosed();
        }
    }

    private async Task ServeAsync(ConnectionContext connection, IPEndPoint? originalDestination)
    {
        _stats.DownstreamCxTotal.Increment();
        _stats.DownstreamCxActive.Increment();
        TlsConnection? tls = null;
        try
        {
            // The chain is chosen once per connection from the version published now; HTTP sessions then follow
            // its successors request by request, tcp_proxy keeps it until the connection ends.
            var chain = await SelectChainAsync(_chains, connection, originalDestination);
            if (chain is null)
            {
                _stats.NoFilterChainMatch.Increment();
                return;
            }
            if (chain.Value.Tls is { } terminator)
            {
                // transport_socket: the handshake runs after the chain is chosen (its SNI/ALPN chose it) and
                // before any network filter sees a byte; a refusal is counted and logged by the terminator.
                (tls, _) = await terminator.HandshakeAsync(connection, _services.Drain.Force);
                if (tls is null) return;
                connection = tls;
            }
            if (chain.Value.Http is { } http)
            {
                bool h2 = http.Model.CodecType switch
                {
                    CodecType.Http2 => true,
                    CodecType.Http1 => false,
                    _ => NegotiatedHttp2(tls) ?? await StartsWithHttp2PrefaceAsync(connection.Transport.Input),
                };
                if (h2) await new Http2ProxyConnection(connection, http, _services, originalDestination).ServeAsync();
                else await new Http1ProxySession(connection, http, _services, originalDestination).RunAsync();
            }
            else if (chain.Value.Tcp is { } tcp) await new TcpProxySession(connection, tcp, _services, originalDestination).RunAsync();
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ConnectionResetException or InvalidOperationException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException)
        {
            // The peer went away or we were forced to stop; the session already counted it.
        }
        finally
        {
            if (tls is not null) await tls.CloseAsync();
            _stats.DownstreamCxActive.Decrement();
        }
    }

    /// <summary>
    /// codec_type AUTO over TLS: ALPN decides when it named an HTTP version (Istio's <c>istio-h2</c> and
    /// <c>istio-http/1.x</c> included); otherwise (no ALPN, or <c>istio</c>) the preface check decides.
    /// </summary>
    private static bool? NegotiatedHttp2(TlsConnection? tls)
    {
        if (tls is null) return null;
        ReadOnlySpan<byte> alpn = tls.Stream.NegotiatedApplicationProtocol.Protocol.Span;
        if (alpn.SequenceEqual("h2"u8) || alpn.SequenceEqual("istio-h2"u8)) return true;
        if (alpn.SequenceEqual("http/1.1"u8) || alpn.SequenceEqual("istio-http/1.1"u8) || alpn.SequenceEqual("istio-http/1.0"u8) || alpn.SequenceEqual("http/1.0"u8)) return false;
        return null;
    }

    /// <summary>
    /// codec_type AUTO: HTTP/2 with prior knowledge when the first bytes are the client preface
    /// (RFC 9113 §3.3), else HTTP/1.1. Nothing is consumed; the chosen codec reads the same bytes.
    /// </summary>
    private static async ValueTask<bool> StartsWithHttp2PrefaceAsync(PipeReader input)
    {
        while (true)
        {
            ReadResult r = await input.ReadAsync();
            ReadOnlySequence<byte> buffer = r.Buffer;
            int n = (int)Math.Min(buffer.Length, Http2Constants.ClientPreface.Length);
            bool matches = IsPrefacePrefix(buffer.Slice(0, n));
            bool decided = !matches || n == Http2Constants.ClientPreface.Length || r.IsCompleted || r.IsCanceled;
            // Decided: leave the bytes unexamined so the codec's first read returns them at once.
            if (decided) input.AdvanceTo(buffer.Start);
            else input.AdvanceTo(buffer.Start, buffer.End);
            if (decided) return matches && n == Http2Constants.ClientPreface.Length;
        }
    }

    private static bool IsPrefacePrefix(in ReadOnlySequence<byte> bytes)
    {
        Span<byte> head = stackalloc byte[24];
        bytes.CopyTo(head);
        return head[..(int)bytes.Length].SequenceEqual(Http2Constants.ClientPreface[..(int)bytes.Length]);
    }

    /// <summary>
    /// Picks the filter chain as Envoy does. Only when some chain matches on TLS properties do we wait
    /// for the first bytes (tls_inspector): server-first protocols on plain tcp_proxy chains must not
    /// be held up waiting for a client that speaks second.
    /// </summary>
    private static async ValueTask<CompiledChain?> SelectChainAsync(ListenerChains chains, ConnectionContext connection, IPEndPoint? originalDestination)
    {
        int port = originalDestination?.Port ?? (connection.LocalEndPoint as IPEndPoint)?.Port ?? 0;
        string transport = "raw_buffer";
        string? serverName = null;
        string[] alpn = [];
        if (chains.Selector.NeedsTlsInspection)
        {
            var info = new ClientHelloInfo();
            using var timeout = new CancellationTokenSource(chains.Model.DetectTimeout);
            PipeReader input = connection.Transport.Input;
            try
            {
                while (true)
                {
                    ReadResult r = await input.ReadAsync(timeout.Token);
                    ReadOnlySequence<byte> buffer = r.Buffer;
                    ClientHelloStatus status = ClientHelloParser.TryParse(buffer, ref info);
                    // Nothing is consumed: the chain's session reads the same bytes again. Once decided, the
                    // bytes are left unexamined too, or the session's first read would wait for more.
                    bool decided = status is ClientHelloStatus.Ok or ClientHelloStatus.NotTls or ClientHelloStatus.Malformed || r.IsCompleted;
                    if (decided) input.AdvanceTo(buffer.Start);
                    else input.AdvanceTo(buffer.Start, buffer.End);
                    if (status == ClientHelloStatus.Ok)
                    {
                        transport = "tls";
                        serverName = info.ServerName;
                        alpn = info.ApplicationProtocols;
                        break;
                    }
                    if (status is ClientHelloStatus.NotTls) break;
                    if (status == ClientHelloStatus.Malformed || r.IsCompleted) return null;
                }
            }
            catch (OperationCanceledException)
            {
                // Envoy: listener_filters_timeout closes the connection unless continue_on_listener_filters_timeout,
                // which selects as if no TLS was seen (server-first protocols behind a passthrough chain).
                if (!chains.Model.ContinueOnListenerFiltersTimeout) return null;
                transport = "raw_buffer";
                serverName = null;
                alpn = [];
            }
        }
        return chains.Find(chains.Selector.Select(port, serverName, transport, alpn));
    }

    /// <summary>Stops accepting (graceful drain step one); open connections are left to the drain.</summary>
    public async Task StopAcceptingAsync()
    {
        if (_listener is null) return;
        await _listener.UnbindAsync();
        if (_acceptLoop is not null) await _acceptLoop;
    }

    public async ValueTask DisposeAsync()
    {
        if (_listener is not null) await _listener.DisposeAsync();
    }
}
