using System.Collections.Immutable;
using System.Net;

namespace Sidecar.Core.Config.Model;

public sealed class ListenerModel
{
    public required string Name { get; init; }
    public required IPEndPoint Address { get; init; }
    /// <summary>Envoy <c>use_original_dst</c>: hand the connection to the listener owning SO_ORIGINAL_DST.</summary>
    public bool UseOriginalDst { get; init; }
    /// <summary>The <c>envoy.filters.listener.original_dst</c> listener filter is listed: recover the pre-redirect
    /// destination (SO_ORIGINAL_DST) for filter chain matching and ORIGINAL_DST clusters.</summary>
    public bool OriginalDstFilter { get; init; }
    /// <summary>Envoy <c>transparent</c>: IP_TRANSPARENT on the listening socket, so TPROXY'd connections
    /// (destination kept as the local address) are accepted. Needs CAP_NET_ADMIN or CAP_NET_RAW.</summary>
    public bool Transparent { get; init; }
    /// <summary>Envoy <c>freebind</c>: IP_FREEBIND, so the listener may bind an address not (yet) local.</summary>
    public bool Freebind { get; init; }
    public required ImmutableArray<FilterChainModel> FilterChains { get; init; }
    public FilterChainModel? DefaultFilterChain { get; init; }
    /// <summary>Envoy <c>listener_filters_timeout</c> (default 15 s): time allowed for protocol detection.</summary>
    public TimeSpan DetectTimeout { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>Envoy <c>per_connection_buffer_limit_bytes</c> (default 1 MiB).</summary>
    public int PerConnectionBufferLimitBytes { get; init; } = 1024 * 1024;
    /// <summary>Maximum concurrently open downstream connections on this listener (0 = unlimited).</summary>
    public int MaxConnections { get; init; }
    /// <summary>Envoy <c>bind_to_port</c> (default true). False: the listener opens no socket and is reached only
    /// by an original_dst hand-off from a listener with <c>use_original_dst</c> (Istio's per-service listeners).</summary>
    public bool BindToPort { get; init; } = true;
    /// <summary>Envoy <c>traffic_direction</c>: informational (stats, Istio telemetry), no effect on forwarding.</summary>
    public TrafficDirection TrafficDirection { get; init; }
    /// <summary>Envoy <c>continue_on_listener_filters_timeout</c>: when detection times out, continue with what was
    /// learned so far (e.g. no SNI/ALPN) instead of closing the connection.</summary>
    public bool ContinueOnListenerFiltersTimeout { get; init; }
    /// <summary>Extensions and fields accepted without being acted on ("path: what"), listener, chains and HTTP
    /// filters together: the host logs them once per config version.</summary>
    public ImmutableArray<string> NotEnforced { get; init; } = [];
}

/// <summary>Envoy <c>core.v3.TrafficDirection</c>.</summary>
public enum TrafficDirection : byte { Unspecified, Inbound, Outbound }

public sealed class FilterChainModel
{
    public string Name { get; init; } = "";
    public required FilterChainMatchModel Match { get; init; }
    /// <summary>Exactly one of <see cref="TcpProxy"/> and <see cref="Http"/> is set.</summary>
    public TcpProxyModel? TcpProxy { get; init; }
    public HttpConnectionManagerModel? Http { get; init; }
    /// <summary>TLS termination (<c>transport_socket</c>); null for plaintext chains.</summary>
    public DownstreamTlsModel? Tls { get; init; }
}

public sealed class FilterChainMatchModel
{
    public static readonly FilterChainMatchModel Any = new();
    public int? DestinationPort { get; init; }
    public ImmutableArray<string> ServerNames { get; init; } = [];
    /// <summary>"tls", "raw_buffer" or null for any.</summary>
    public string? TransportProtocol { get; init; }
    public ImmutableArray<string> ApplicationProtocols { get; init; } = [];
}

public sealed class TcpProxyModel
{
    public required string StatPrefix { get; init; }
    /// <summary>Target: a single cluster, or weighted clusters (then <see cref="Cluster"/> is empty).</summary>
    public string Cluster { get; init; } = "";
    public ImmutableArray<WeightedClusterModel> WeightedClusters { get; init; } = [];
    /// <summary>Envoy default 1 h; zero disables.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromHours(1);
    public int MaxConnectAttempts { get; init; } = 1;
}
