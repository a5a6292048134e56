using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Sidecar.Core.Tls;

namespace Sidecar.Core.Transport;

/// <summary>
/// What every TLS side shares: run the handshake over the connection's pipes under a deadline, count the outcome
/// with Envoy's <c>ssl.*</c> names, and log a refusal reason the first time it happens on this listener or cluster
/// (an attacker sending garbage must not turn into a log flood; the counters keep the full tally).
/// </summary>
public abstract class TlsHandshaker
{
    private readonly string _side;
    private readonly string _name;
    private readonly string _statPrefix;
    private readonly ILogger _logger;
    private readonly TimeSpan _timeout;
    private int _loggedReasons;

    private protected TlsHandshaker(string side, string name, string statPrefix, TlsStats stats, TimeSpan timeout, ILogger logger)
    {
        _side = side;
        _name = name;
        _statPrefix = statPrefix;
        Stats = stats;
        _timeout = timeout;
        _logger = logger;
    }

    public TlsStats Stats { get; }

    private protected TimeSpan Timeout => _timeout;

    private protected abstract ValueTask<TlsHandshakeResult> HandshakeAsync(Stream transport, CancellationToken cancellationToken);

    /// <summary>The TLS connection over <paramref name="connection"/>, or null with the reason (already counted and logged).</summary>
    public async ValueTask<(TlsConnection? Connection, TlsPeerFailure Failure)> HandshakeAsync(ConnectionContext connection, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        // leaveInnerStreamOpen: the pipe stream owns nothing; the connection's owner completes the pipes.
        TlsHandshakeResult r = await HandshakeAsync(new DuplexPipeStream(connection.Transport), deadline.Token).ConfigureAwait(false);
        Stats.Record(r.Failure);
        if (r.Succeeded) return (new TlsConnection(connection, r.Stream!), TlsPeerFailure.None);
        ReportFailure(connection.RemoteEndPoint, r.Failure);
        return (null, r.Failure);
    }

    private protected void ReportFailure(EndPoint? peer, TlsPeerFailure failure)
    {
        int bit = 1 << ((int)failure & 31);
        int seen = Volatile.Read(ref _loggedReasons);
        while ((seen & bit) == 0)
        {
            int now = Interlocked.CompareExchange(ref _loggedReasons, seen | bit, seen);
            if (now == seen)
            {
                TlsLog.Refused(_logger, _side, _name, peer?.ToString() ?? "?", failure, _statPrefix + "ssl.*");
                return;
            }
            seen = now;
        }
    }
}

/// <summary>Server side of a filter chain's <c>DownstreamTlsContext</c>.</summary>
public sealed class TlsTerminator(DownstreamTlsContext context, string listenerName, string statPrefix, TlsStats stats, TimeSpan timeout, ILogger logger)
    : TlsHandshaker("listener", listenerName, statPrefix, stats, timeout, logger)
{
    private protected override ValueTask<TlsHandshakeResult> HandshakeAsync(Stream transport, CancellationToken cancellationToken) =>
        context.AuthenticateAsync(transport, leaveInnerStreamOpen: true, cancellationToken);
}

/// <summary>Client side of a cluster's <c>UpstreamTlsContext</c>.</summary>
public sealed class TlsOriginator(UpstreamTlsContext context, string clusterName, string statPrefix, TlsStats stats, TimeSpan timeout, ILogger logger)
    : TlsHandshaker("cluster", clusterName, statPrefix, stats, timeout, logger)
{
    private protected override ValueTask<TlsHandshakeResult> HandshakeAsync(Stream transport, CancellationToken cancellationToken) =>
        context.AuthenticateAsync(transport, leaveInnerStreamOpen: true, cancellationToken);

    /// <summary>TLS over a raw socket (tcp_proxy relays use sockets directly for half-close).</summary>
    public async ValueTask<MeshTlsStream?> HandshakeAsync(System.Net.Sockets.Socket socket, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        TlsHandshakeResult r = await context.AuthenticateAsync(new System.Net.Sockets.NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false, deadline.Token).ConfigureAwait(false);
        Stats.Record(r.Failure);
        if (r.Succeeded) return r.Stream;
        ReportFailure(socket.RemoteEndPoint, r.Failure);
        return null;
    }
}
