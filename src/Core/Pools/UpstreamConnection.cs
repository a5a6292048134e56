using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Sidecar.Core.Balancing;

namespace Sidecar.Core.Pools;

/// <summary>Told once when a connection is destroyed, wherever that happens (exchange or pool), to release its accounting.</summary>
public interface IUpstreamConnectionOwner
{
    void OnConnectionDestroyed();
}

/// <summary>One upstream HTTP/1.1 connection; owned by exactly one exchange at a time, else idle in its pool.</summary>
public sealed class UpstreamConnection : IAsyncDisposable
{
    private readonly IUpstreamConnectionOwner? _owner;
    private int _destroyed;

    public UpstreamConnection(ConnectionContext context, EndpointState endpoint, IUpstreamConnectionOwner? owner = null)
    {
        _owner = owner;
        Context = context;
        Endpoint = endpoint;
        Input = context.Transport.Input;
        Output = context.Transport.Output;
    }

    public ConnectionContext Context { get; }
    public EndpointState Endpoint { get; }
    public PipeReader Input { get; }
    public PipeWriter Output { get; }
    public int RequestCount { get; set; }
    public long IdleSinceTicks { get; set; }
    /// <summary>True once it came out of the pool at least once (a stale keep-alive may fail the first write).</summary>
    public bool Reused { get; set; }

    /// <summary>
    /// An idle HTTP/1.1 connection must have nothing to read: bytes or EOF mean the peer closed it or
    /// broke framing, so it cannot carry another request.
    /// </summary>
    public bool LooksAlive()
    {
        // Over TLS the plaintext reader only sees what SslStream decrypted when asked; an idle connection the peer
        // closed shows up underneath instead: a close_notify record or EOF waiting in the socket pipe.
        PipeReader probe = Context is Transport.TlsConnection tls ? tls.Inner.Transport.Input : Input;
        try
        {
            if (probe.TryRead(out ReadResult r))
            {
                probe.AdvanceTo(r.Buffer.Start);
                return false;
            }
            return true;
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            // The peer reset it while idle (Kestrel completes the pipe with ConnectionResetException).
            return false;
        }
    }

    public void Abort() => Context.Abort();

    /// <summary>Closes the connection and releases its circuit-breaker slot and gauges exactly once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _destroyed, 1) != 0) return;
        _owner?.OnConnectionDestroyed();
        try
        {
            await Input.CompleteAsync().ConfigureAwait(false);
            await Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // A read or flush was still pending (aborted exchange); disposing the context below ends it.
        }
        await Context.DisposeAsync().ConfigureAwait(false);
    }
}
