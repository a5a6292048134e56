using System.Net;
using System.Net.Sockets;

namespace Sidecar.Core.Config.Model;

/// <summary>
/// Envoy <c>BindConfig</c> of a cluster (<c>upstream_bind_config</c>): the local address upstream sockets
/// bind before connecting. Istio's inbound passthrough cluster binds 127.0.0.6 (and ::6 as the extra IPv6
/// source), which its capture rules recognise so the proxy's own hop to the app is not captured again.
/// </summary>
public sealed class UpstreamBindModel
{
    /// <summary>IPv4 source (from <c>source_address</c> or an <c>extra_source_addresses</c> entry), if any.</summary>
    public IPAddress? SourceV4 { get; init; }

    /// <summary>IPv6 source, if any.</summary>
    public IPAddress? SourceV6 { get; init; }

    /// <summary>Envoy <c>freebind</c>: IP_FREEBIND/IPV6_FREEBIND before bind.</summary>
    public bool Freebind { get; init; }

    /// <summary>
    /// The source for an upstream of this family, as Envoy's default local-address selector does when
    /// both families are configured. When only the other family is configured we leave the choice to
    /// the kernel rather than bind an address the socket cannot take (Envoy would fail the connect).
    /// </summary>
    public IPAddress? SourceFor(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? SourceV6 : SourceV4;
}
