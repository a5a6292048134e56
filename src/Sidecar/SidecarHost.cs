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
    private ListenerManager? _listeners;
    private readonly UpstreamConnector _connector;
    private readonly TransportSettings _transport = TransportSettings.FromEnvironment();
    private readonly Confinement? _confinement;
    private readonly ILogger _log = new StderrLogger("sidecar", StderrLogger.LevelFromEnvironment());
    private IAsyncDisposable? _identityLifetime;
    private readonly XdsSettings? _xdsSettings;
    private readonly NotEnforcedLog _notEnforced;
    private XdsHost? _xds;
    private AdminServer? _admin;
    private volatile ServerState _state = ServerState.Initializing;

    public SidecarHost(BootstrapModel model, TimeSpan drainTime, Confinement? confinement = null, XdsSettings? xds = null)
    {
        _xdsSettings = xds;
        _notEnforced = new NotEnforcedLog(_log);
        _confinement = confinement;
        _model = model;
        _drainTime = drainTime;
        _connector = new UpstreamConnector(_transport);
    }

    public async Task<int> RunAsync()
    {
        // :: Step 1 — workload identity and shared services
        (ICertificateSource? workload, _identityLifetime, string? identityError) = await WorkloadIdentity.StartAsync(_log);
        if (identityError is not null)
        {
            Console.Error.WriteLine(identityError);
            return 1;
        }
        // SDS secrets istiod serves over ADS: one registry the xDS client fills and the TLS bindings read.
        var sds = _xdsSettings is null ? null : new Sidecar.Core.Xds.Secrets.SdsSecretRegistry();
        var tls = new TlsBindings(workload, _log, sds);
        var services = new ProxyServices { Drain = _drain, Heartbeat = _heartbeat, Connector = _connector, Transport = _transport, Tls = tls };
        _listeners = new ListenerManager(services, _stats);

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

        // :: Step 2 — admin first, so probes answer (503 until live)
        if (_model.Admin is { } admin)
        {
            _admin = new AdminServer(admin.Address, new AdminHandlers(_stats, ConfigDump, () => _state, RequestStop, () => _listeners));
            await _admin.StartAsync(CancellationToken.None);
        }

        // :: Step 3 — the config: snapshot (DNS clusters warmed), chains, bound listeners, published at once
        if (await _listeners.ApplyAsync(_model) is string refused)
        {
            Console.Error.WriteLine(refused);
            return 1;
        }
        _notEnforced.Report(_model);
        foreach (ListenerRuntime l in _listeners.Listeners)
            Console.WriteLine($"listener {l.Model.Name} on {l.BoundEndPoint?.ToString() ?? l.Model.Address + " (bind_to_port: false; reached by original_dst hand-off)"}");
        if (_xdsSettings is { } xdsSettings)
        {
            if (XdsHost.TryStart(xdsSettings, _listeners, workload, sds!, _stats, _log, _notEnforced, out _xds) is string xdsError)
            {
                Console.Error.WriteLine(xdsError);
                return 1;
            }
            Console.WriteLine($"xDS: ADS to {xdsSettings.Address}");
        }
        // Listeners are bound: the seccomp allow-list can now cover the steady state (opt-in).
        if (_confinement is not null && !_confinement.LockDown()) return 1;
        _state = ServerState.Live;
        Console.WriteLine($"sidecar {Version.Number} live: {_listeners.Listeners.Count} listener(s), {_model.Clusters.Count} cluster(s)"
            + (_admin is null ? "" : $", admin on {_admin.BoundEndPoint}"));

        // :: Step 4 — wait for a stop request, then drain
        await _stop.Task;
        _state = ServerState.Draining;
        Console.WriteLine($"draining (deadline {_drainTime.TotalSeconds:0.#}s, {_drain.ActiveConnections} connection(s) open)");
        await _listeners.StopAcceptingAsync();
        await _drain.DrainAsync(_drainTime);
        Console.WriteLine($"drained; {_drain.ActiveConnections} connection(s) left");
        return 0;
    }

    /// <summary>
    /// Envoy's /config_dump shape: a list of typed dumps. A static config is one BootstrapConfigDump; under xDS the
    /// dynamic clusters, listeners and routes follow (endpoints with <c>?include_eds</c>).
    /// </summary>
    private ConfigDumpSource ConfigDump(bool includeEds) => _xds is { } xds
        ? new ConfigDumpSource(_model.SourceJson, xds.Translator.Published, includeEds, xds.Client.Status, xds.Secrets.Active)
        : new ConfigDumpSource(_model.SourceJson, null, includeEds);

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        RequestStop();
    }

    private void RequestStop() => _stop.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        if (_xds is not null) await _xds.DisposeAsync();
        if (_listeners is not null) await _listeners.DisposeAsync();
        if (_admin is not null) await _admin.DisposeAsync();
        if (_identityLifetime is not null) await _identityLifetime.DisposeAsync();
        _heartbeat.Dispose();
        _connector.Dispose();
        _drain.Dispose();
    }
}
