using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Sidecar.Core.Balancing;

namespace Sidecar.Core.Pools;

/// <summary>One upstream HTTP/1.1 connection; owned by exactly one exchange at a time, else idle in its pool.</summary>
public sealed class UpstreamConnection : IAsyncDisposable
{
    public UpstreamConnection(ConnectionContext context, EndpointState endpoint)
    {
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
        if (Input.TryRead(out ReadResult r))
        {
            Input.AdvanceTo(r.Buffer.Start);
            return false;
        }
        return true;
    }

    public void Abort() => Context.Abort();

    public async ValueTask DisposeAsync()
    {
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
