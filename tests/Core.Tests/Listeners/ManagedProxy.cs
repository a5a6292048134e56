using Sidecar.Core.Lifecycle;
using Sidecar.Core.Listeners;
using Sidecar.Core.Proxy;
using Sidecar.Core.Telemetry;
using Sidecar.Core.Transport;

namespace Sidecar.Core.Tests.Listeners;

/// <summary>The process-wide services and a <see cref="ListenerManager"/> over them, as the host builds them, for tests that apply config versions.</summary>
internal sealed class ManagedProxy : IAsyncDisposable
{
    private readonly Drain _drain = new();
    private readonly Heartbeat _heartbeat = new();
    private readonly UpstreamConnector _connector = new(new TransportSettings());

    /// <param name="tls">The TLS bindings (e.g. with an SDS registry); none by default.</param>
    public ManagedProxy(TlsBindings? tls = null) =>
        Manager = new ListenerManager(new ProxyServices { Drain = _drain, Heartbeat = _heartbeat, Connector = _connector, Transport = new TransportSettings(), Tls = tls ?? TlsBindings.None }, Stats);

    public StatsStore Stats { get; } = new();
    public ListenerManager Manager { get; }

    public async ValueTask DisposeAsync()
    {
        await Manager.DisposeAsync();
        _heartbeat.Dispose();
        _connector.Dispose();
        _drain.Dispose();
    }
}
