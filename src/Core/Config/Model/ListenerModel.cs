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
}

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
