using System.Runtime.InteropServices;
using Sidecar.Admin;
using Microsoft.Extensions.Logging;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Identity;
using Sidecar.Core.Lifecycle;
using Sidecar.Core.Listeners;
using Sidecar.Core.Proxy;
using Sidecar.Core.Telemetry;
using Sidecar.Core.Transport;

namespace Sidecar;

/// <summary>
/// The composition root: builds every component by hand (no reflection, no DI container), starts
/// the admin loop and the listeners, and owns shutdown. SIGTERM/SIGINT/quitquitquit all drain:
/// stop accepting → idle connections close → in-flight requests finish (Connection: close) →
/// after the drain deadline whatever is left is aborted → exit 0.
/// </summary>
internal sealed class SidecarHost : IAsyncDisposable
{
    private readonly BootstrapModel _model;
    private readonly TimeSpan _drainTime;
    private readonly StatsStore _stats = new();
    private readonly Drain _drain = new();
    private readonly Heartbeat _heartbeat = new();
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<ListenerRuntime> _listeners = [];
    private readonly ListenerRegistry _registry = new();
    private readonly UpstreamConnector _connector;
    private readonly TransportSettings _transport = TransportSettings.FromEnvironment();
    private readonly Confinement? _confinement;
    private readonly ILogger _log = new StderrLogger("sidecar", StderrLogger.LevelFromEnvironment());
    private IDisposable? _identityLifetime;
    private AdminServer? _admin;
    private volatile ServerState _state = ServerState.Initializing;

    public SidecarHost(BootstrapModel model, TimeSpan drainTime, Confinement? confinement = null)
    {
        _confinement = confinement;
        _model = model;
        _drainTime = drainTime;
        _connector = new UpstreamConnector(_transport);
    }

    public async Task<int> RunAsync()
    {
        // :: Step 1 — workload identity, runtime snapshot and shared services
        ICertificateSource? workload = WorkloadIdentity.Start(_log, out _identityLifetime);
        var tls = new TlsBindings(workload, _log);
        ProxySnapshot snapshot;
        try
        {
            snapshot = SnapshotBuilder.Build(_model, _stats, tls);
        }
        catch (TlsBindingException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 1;
        }
        // Envoy cluster warming: DNS clusters resolve once before listeners open.
        await snapshot.ClusterManager.InitializeAsync();
        var services = new ProxyServices { Drain = _drain, Heartbeat = _heartbeat, Connector = _connector, Transport = _transport, Tls = tls };

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

        // :: Step 2 — admin first, so probes answer (503 until live)
        if (_model.Admin is { } admin)
        {
            _admin = new AdminServer(admin.Address, new AdminHandlers(_stats, ConfigDump, () => _state, RequestStop));
            await _admin.StartAsync(CancellationToken.None);
        }

        // :: Step 3 — listeners
        foreach (ListenerModel l in _model.Listeners)
        {
            ListenerRuntime runtime;
            try
            {
                runtime = new ListenerRuntime(l, snapshot, services, _stats, _registry);
                await runtime.StartAsync(CancellationToken.None);
            }
            catch (TlsBindingException ex)
            {
                Console.Error.WriteLine(ex.Message);
                return 1;
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                Console.Error.WriteLine($"listener {l.Name}: cannot bind {l.Address}: {ex.Message}");
                return 1;
            }
            _listeners.Add(runtime);
            _registry.Add(runtime);
            Console.WriteLine($"listener {l.Name} on {runtime.BoundEndPoint}");
        }
        // Listeners are bound: the seccomp allow-list can now cover the steady state (opt-in).
        if (_confinement is not null && !_confinement.LockDown()) return 1;
        _state = ServerState.Live;
        Console.WriteLine($"sidecar {Version.Number} live: {_listeners.Count} listener(s), {_model.Clusters.Count} cluster(s)"
            + (_admin is null ? "" : $", admin on {_admin.BoundEndPoint}"));

        // :: Step 4 — wait for a stop request, then drain
        await _stop.Task;
        _state = ServerState.Draining;
        Console.WriteLine($"draining (deadline {_drainTime.TotalSeconds:0.#}s, {_drain.ActiveConnections} connection(s) open)");
        foreach (var l in _listeners) await l.StopAcceptingAsync();
        await _drain.DrainAsync(_drainTime);
        Console.WriteLine($"drained; {_drain.ActiveConnections} connection(s) left");
        snapshot.Dispose();
        return 0;
    }

    /// <summary>Envoy's /config_dump shape: a list of typed dumps; a static config is one BootstrapConfigDump.</summary>
    private string ConfigDump() =>
        "{\n \"configs\": [\n  {\n   \"@type\": \"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump\",\n   \"bootstrap\": "
        + _model.SourceJson + "\n  }\n ]\n}\n";

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        RequestStop();
    }

    private void RequestStop() => _stop.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        foreach (var l in _listeners) await l.DisposeAsync();
        if (_admin is not null) await _admin.DisposeAsync();
        _identityLifetime?.Dispose();
        _heartbeat.Dispose();
        _connector.Dispose();
        _drain.Dispose();
    }
}
