using System.Net.Sockets;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Proxy;
using Sidecar.Core.Telemetry;

namespace Sidecar.Core.Listeners;

/// <summary>
/// Applies a whole config version: builds the snapshot (carrying unchanged clusters over), compiles every listener's
/// chains, binds new listeners — and only when all of that worked, publishes: one reference write per listener, the
/// new snapshot, then the old listeners stop accepting and the old clusters close. Any failure leaves the running
/// version untouched and returns the reason (a static config then stops the start; xDS NACKs it).
/// </summary>
public sealed class ListenerManager : IAsyncDisposable
{
    private readonly ProxyServices _services;
    private readonly StatsStore _stats;
    private readonly ListenerRegistry _registry = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, ListenerRuntime> _byName = new(StringComparer.Ordinal);
    private volatile ProxySnapshot? _snapshot;

    public ListenerManager(ProxyServices services, StatsStore stats)
    {
        _services = services;
        _stats = stats;
    }

    /// <summary>The published snapshot (null before the first successful apply).</summary>
    public ProxySnapshot? Current => _snapshot;

    /// <summary>The listeners of the published version.</summary>
    public IReadOnlyList<ListenerRuntime> Listeners
    {
        get
        {
            lock (_byName) return [.. _byName.Values];
        }
    }

    /// <summary>Applies <paramref name="model"/>; null when it is serving, else why it was refused (nothing changed then).</summary>
    public async Task<string?> ApplyAsync(BootstrapModel model, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ApplyLockedAsync(model, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string?> ApplyLockedAsync(BootstrapModel model, CancellationToken cancellationToken)
    {
        ProxySnapshot? previous = _snapshot;
        ProxySnapshot next;
        try
        {
            next = SnapshotBuilder.Build(model, _stats, _services.Tls, previous);
        }
        catch (TlsBindingException ex)
        {
            return ex.Message;
        }
        // Envoy cluster warming: new DNS clusters resolve once before anything points at them.
        await next.InitializeAsync(cancellationToken).ConfigureAwait(false);

        var updates = new List<(ListenerRuntime Runtime, ListenerChains Chains)>();
        var created = new List<ListenerRuntime>();
        try
        {
            foreach (ListenerModel l in model.Listeners)
            {
                if (_byName.TryGetValue(l.Name, out ListenerRuntime? running) && running.CanUpdateInPlace(l))
                {
                    updates.Add((running, running.Compile(l, next)));
                }
                else
                {
                    var runtime = new ListenerRuntime(l, next, _services, _stats, _registry);
                    created.Add(runtime);
                    // bind_to_port: false (Istio's per-port inbound/outbound listeners): no socket; connections reach it
                    // only by the original_dst hand-off of a listener that does bind (virtualOutbound/virtualInbound).
                    if (l.BindToPort) await runtime.StartAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is TlsBindingException or SocketException or IOException or Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            foreach (ListenerRuntime c in created)
            {
                await c.StopAcceptingAsync().ConfigureAwait(false);
                await c.DisposeAsync().ConfigureAwait(false);
            }
            next.DiscardFresh();
            string which = created.Count > 0 ? $"listener {created[^1].Model.Name} ({created[^1].Model.Address}): " : "";
            return ex switch
            {
                SocketException se => $"{which}cannot bind: {se.SocketErrorCode}",
                Microsoft.AspNetCore.Connections.AddressInUseException => $"{which}cannot bind: address in use",
                _ => which + ex.Message,
            };
        }

        // :: Commit — from here on nothing can fail.
        SnapshotBuilder.CommitEndpoints(next);
        foreach ((ListenerRuntime runtime, ListenerChains chains) in updates) runtime.Publish(chains);
        var keep = new HashSet<ListenerRuntime>(updates.Select(u => u.Runtime));
        List<ListenerRuntime> removed;
        lock (_byName)
        {
            removed = [.. _byName.Values.Where(r => !keep.Contains(r))];
            _byName.Clear();
            foreach ((ListenerRuntime runtime, _) in updates) _byName[runtime.Model.Name] = runtime;
            foreach (ListenerRuntime c in created) _byName[c.Model.Name] = c;
        }
        foreach (ListenerRuntime c in created) _registry.Add(c);
        _snapshot = next;
        foreach (ListenerRuntime r in removed)
        {
            // Envoy drains a removed listener: no new connections; the open ones finish on the old chains.
            _registry.Remove(r);
            await r.StopAcceptingAsync().ConfigureAwait(false);
            // Only the listening socket goes; accepted connections are owned by their sessions.
            await r.DisposeAsync().ConfigureAwait(false);
        }
        previous?.Retire(next);
        return null;
    }

    /// <summary>Drain step one for every listener: stop accepting.</summary>
    public async Task StopAcceptingAsync()
    {
        foreach (ListenerRuntime l in Listeners) await l.StopAcceptingAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ListenerRuntime l in Listeners) await l.DisposeAsync().ConfigureAwait(false);
        _snapshot?.Dispose();
        _gate.Dispose();
    }
}
