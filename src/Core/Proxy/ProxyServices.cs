using Sidecar.Core.Lifecycle;
using Sidecar.Core.Transport;

namespace Sidecar.Core.Proxy;

/// <summary>Process-wide services every connection uses; built once in the composition root.</summary>
public sealed class ProxyServices
{
    public required Drain Drain { get; init; }
    public required Heartbeat Heartbeat { get; init; }
    public required UpstreamConnector Connector { get; init; }
    public required TransportSettings Transport { get; init; }

    /// <summary>SDS bindings (workload certificate source) and the logger TLS refusals go to.</summary>
    public TlsBindings Tls { get; init; } = TlsBindings.None;
}
