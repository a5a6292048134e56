using System.Collections.Immutable;
using System.Net;

namespace Sidecar.Core.Config.Model;

public enum DiscoveryType : byte { Static, StrictDns, LogicalDns, OriginalDst, Eds }

public enum LbPolicy : byte { RoundRobin, LeastRequest, Random }

/// <summary>Envoy <c>dns_lookup_family</c> (default AUTO: prefer IPv6, fall back to IPv4).</summary>
public enum DnsLookupFamily : byte { Auto, V4Only, V6Only, V4Preferred, All }

public sealed class ClusterModel
{
    public required string Name { get; init; }

    /// <summary>
    /// The cluster's config as canonical JSON without its endpoints (<c>load_assignment</c>): two versions with the
    /// same definition are the same cluster, so a config update keeps its state, pools and connections and only
    /// swaps endpoints. Empty for clusters built in code (never reused).
    /// </summary>
    public string Definition { get; init; } = "";
    public required DiscoveryType Type { get; init; }
    /// <summary>Envoy default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Envoy <c>upstream_bind_config</c>: source address of upstream sockets (null: the kernel picks).</summary>
    public UpstreamBindModel? UpstreamBind { get; init; }
    /// <summary>TLS origination (<c>transport_socket</c>); null for plaintext upstreams.</summary>
    public UpstreamTlsModel? Tls { get; init; }
    public LbPolicy LbPolicy { get; init; } = LbPolicy.RoundRobin;
    /// <summary>Envoy <c>least_request_lb_config.choice_count</c>, default 2.</summary>
    public int LeastRequestChoiceCount { get; init; } = 2;
    public ImmutableArray<LocalityEndpointsModel> Localities { get; init; } = [];
    public CircuitBreakerModel CircuitBreakers { get; init; } = CircuitBreakerModel.Default;
    /// <summary>Envoy <c>circuit_breakers.thresholds</c> with priority HIGH (routes with priority HIGH use them; ours are all DEFAULT).</summary>
    public CircuitBreakerModel HighPriorityCircuitBreakers { get; init; } = CircuitBreakerModel.Default;
    /// <summary>Envoy <c>transport_socket_matches</c> (Istio auto-mTLS): the first entry whose <see cref="TransportSocketMatchModel.Match"/>
    /// is contained in an endpoint's <see cref="EndpointModel.TransportSocketMatch"/> gives that endpoint's transport socket;
    /// no match: the cluster's own <see cref="Tls"/>.</summary>
    public ImmutableArray<TransportSocketMatchModel> TransportSocketMatches { get; init; } = [];
    /// <summary>Envoy <c>outlier_detection</c>, accepted and NOT enforced yet (no host is ejected); null when absent.</summary>
    public OutlierDetectionModel? OutlierDetection { get; init; }
    /// <summary>Fields accepted without being acted on ("path: what"): the host logs them once per config version.</summary>
    public System.Collections.Immutable.ImmutableArray<string> NotEnforced { get; init; } = [];
    /// <summary>Envoy <c>common_http_protocol_options.idle_timeout</c> for upstream connections, default 1 h.</summary>
    public TimeSpan UpstreamIdleTimeout { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Envoy <c>dns_refresh_rate</c>, default 5 s (STRICT_DNS / LOGICAL_DNS).</summary>
    public TimeSpan DnsRefreshRate { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Envoy <c>dns_lookup_family</c>, default AUTO.</summary>
    public DnsLookupFamily DnsLookupFamily { get; init; } = DnsLookupFamily.Auto;
    /// <summary>Envoy <c>max_requests_per_connection</c> (0 = unlimited).</summary>
    public int MaxRequestsPerConnection { get; init; }
    public UpstreamProtocol UpstreamProtocol { get; init; } = UpstreamProtocol.Http1;
    public Http2ProtocolOptionsModel Http2 { get; init; } = Http2ProtocolOptionsModel.Default;
    /// <summary>Envoy <c>per_connection_buffer_limit_bytes</c> (default 1 MiB).</summary>
    public int PerConnectionBufferLimitBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// The same cluster with other endpoints: xDS translates a cluster (CDS) and its endpoints (EDS) separately and
    /// joins them here, so an EDS push re-reads only the endpoints. Every other property is shared, Definition included.
    /// </summary>
    public ClusterModel WithLocalities(ImmutableArray<LocalityEndpointsModel> localities) => new()
    {
        Name = Name,
        Definition = Definition,
        Type = Type,
        ConnectTimeout = ConnectTimeout,
        UpstreamBind = UpstreamBind,
        Tls = Tls,
        LbPolicy = LbPolicy,
        LeastRequestChoiceCount = LeastRequestChoiceCount,
        Localities = localities,
        CircuitBreakers = CircuitBreakers,
        HighPriorityCircuitBreakers = HighPriorityCircuitBreakers,
        TransportSocketMatches = TransportSocketMatches,
        OutlierDetection = OutlierDetection,
        NotEnforced = NotEnforced,
        UpstreamIdleTimeout = UpstreamIdleTimeout,
        DnsRefreshRate = DnsRefreshRate,
        DnsLookupFamily = DnsLookupFamily,
        MaxRequestsPerConnection = MaxRequestsPerConnection,
        UpstreamProtocol = UpstreamProtocol,
        Http2 = Http2,
        PerConnectionBufferLimitBytes = PerConnectionBufferLimitBytes,
    };
}

public sealed class LocalityEndpointsModel
{
    public string Region { get; init; } = "";
    public string Zone { get; init; } = "";
    public string SubZone { get; init; } = "";
    /// <summary>Envoy <c>load_balancing_weight</c> of the locality (default 1).</summary>
    public int Weight { get; init; } = 1;
    public int Priority { get; init; }
    public required ImmutableArray<EndpointModel> Endpoints { get; init; }
}

public sealed class EndpointModel
{
    /// <summary>Host name or IP literal, as written in <c>socket_address.address</c>.</summary>
    public required string Host { get; init; }
    public required int Port { get; init; }
    /// <summary>Set when <see cref="Host"/> is an IP literal.</summary>
    public IPAddress? Address { get; init; }
    /// <summary>Envoy <c>load_balancing_weight</c> (default 1).</summary>
    public int Weight { get; init; } = 1;
    /// <summary>The endpoint's <c>metadata.filter_metadata["envoy.transport_socket_match"]</c> (string values; e.g. Istio's
    /// <c>tlsMode: istio</c>), matched against <see cref="ClusterModel.TransportSocketMatches"/>. Empty when absent.</summary>
    public ImmutableDictionary<string, string> TransportSocketMatch { get; init; } = ImmutableDictionary<string, string>.Empty;
}

/// <summary>One <c>transport_socket_matches</c> entry.</summary>
public sealed class TransportSocketMatchModel
{
    public required string Name { get; init; }
    /// <summary>Key/values an endpoint's transport-socket-match metadata must all contain; empty matches every endpoint.</summary>
    public ImmutableDictionary<string, string> Match { get; init; } = ImmutableDictionary<string, string>.Empty;
    /// <summary>TLS for matching endpoints; null means plaintext (raw_buffer).</summary>
    public UpstreamTlsModel? Tls { get; init; }
}

/// <summary>Envoy <c>outlier_detection</c> (the fields Istio's DestinationRule sets). Not enforced yet.</summary>
public sealed class OutlierDetectionModel
{
    public int Consecutive5xx { get; init; } = 5;
    public int ConsecutiveGatewayFailure { get; init; } = 5;
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan BaseEjectionTime { get; init; } = TimeSpan.FromSeconds(30);
    public int MaxEjectionPercent { get; init; } = 10;
}

/// <summary>Envoy <c>circuit_breakers.thresholds</c> for the DEFAULT priority; Envoy defaults are 1024 each, retries 3.</summary>
public sealed class CircuitBreakerModel
{
    public static readonly CircuitBreakerModel Default = new();
    public int MaxConnections { get; init; } = 1024;
    public int MaxPendingRequests { get; init; } = 1024;
    public int MaxRequests { get; init; } = 1024;
    public int MaxRetries { get; init; } = 3;
}
