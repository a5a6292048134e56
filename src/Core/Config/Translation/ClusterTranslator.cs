using System.Collections.Immutable;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>Envoy <c>config.cluster.v3.Cluster</c> to <see cref="ClusterModel"/>.</summary>
internal static class ClusterTranslator
{
    /// <summary>
    /// One CDS resource alone (its tree rooted at its resource path): the model and the errors that refuse it. As in a
    /// whole bootstrap, a cluster with errors still has a model when it has a name, so references to it are not
    /// reported as unknown clusters on top of its own errors.
    /// </summary>
    public static (ClusterModel? Model, ImmutableArray<ConfigError> Errors) TranslateResource(ConfigNode cluster)
    {
        TranslationContext ctx = new();
        ClusterModel? model = Translate(ctx, cluster);
        return (model, ctx.Errors);
    }

    public static ClusterModel? Translate(TranslationContext ctx, ConfigNode node)
    {
        FieldReader c = new(ctx, node);
        if (!c.IsValid)
        {
            return null;
        }
        string? name = c.String("name");
        int notesStart = ctx.NotEnforcedCount;
        if (!c.Has("name"))
        {
            ctx.Error(node, "name is required");
        }
        ConfigNode? typeNode = c.Take("type");
        DiscoveryType type = (typeNode is null ? "STATIC" : ctx.Enum(typeNode, "STATIC", "STRICT_DNS", "LOGICAL_DNS", "ORIGINAL_DST")) switch
        {
            "STRICT_DNS" => DiscoveryType.StrictDns,
            "LOGICAL_DNS" => DiscoveryType.LogicalDns,
            "ORIGINAL_DST" => DiscoveryType.OriginalDst,
            _ => DiscoveryType.Static,
        };
        ConfigNode? lbNode = c.Take("lb_policy");
        string lbName = lbNode is null ? "ROUND_ROBIN" : ctx.Enum(lbNode, "ROUND_ROBIN", "LEAST_REQUEST", "RANDOM", "CLUSTER_PROVIDED") ?? "ROUND_ROBIN";
        // Envoy requires CLUSTER_PROVIDED exactly for ORIGINAL_DST clusters (the destination is the balancer).
        if (lbNode is not null && (lbName == "CLUSTER_PROVIDED") != (type == DiscoveryType.OriginalDst))
        {
            ctx.Error(lbNode, "lb_policy CLUSTER_PROVIDED is required for, and only valid with, type ORIGINAL_DST");
        }
        int choiceCount = 2;
        if (c.Message("least_request_lb_config") is FieldReader lr)
        {
            choiceCount = (int)(lr.Integer("choice_count", 2, 100) ?? 2);
            lr.Finish();
        }
        ImmutableArray<LocalityEndpointsModel> localities = [];
        if (c.Message("load_assignment") is FieldReader la)
        {
            localities = LoadAssignmentTranslator.Read(la, type);
            if (type == DiscoveryType.OriginalDst && la.IsValid)
            {
                ctx.Error(la.Node, "ORIGINAL_DST clusters take their endpoint from the connection; load_assignment is not allowed");
            }
        }
        else if (type is DiscoveryType.Static or DiscoveryType.StrictDns or DiscoveryType.LogicalDns)
        {
            ctx.Error(node, "load_assignment is required for this cluster type");
        }
        if (type == DiscoveryType.LogicalDns && localities.Sum(l => l.Endpoints.Length) > 1)
        {
            ctx.Error(node, "LOGICAL_DNS clusters take exactly one endpoint");
        }
        (CircuitBreakerModel breakers, CircuitBreakerModel high) = c.Message("circuit_breakers") is FieldReader cb
            ? ReadCircuitBreakers(cb)
            : (CircuitBreakerModel.Default, CircuitBreakerModel.Default);
        // alt_stat_name only renames the cluster's statistics; metadata is for management tools and filters we do not run.
        c.Ignore("alt_stat_name");
        c.Ignore("metadata");
        ImmutableArray<TransportSocketMatchModel> socketMatches = ReadTransportSocketMatches(ctx, c.Take("transport_socket_matches"));
        OutlierDetectionModel? outlier = c.Message("outlier_detection") is FieldReader od ? ReadOutlierDetection(od) : null;
        // Istio sends an empty common_lb_config (all defaults); any option in it is refused field by field.
        if (c.Message("common_lb_config") is FieldReader lbc)
        {
            lbc.Finish();
        }
        (TimeSpan idle, int maxRequests, UpstreamProtocol protocol, Http2ProtocolOptionsModel? http2) = ProtocolOptionsTranslator.Read(ctx, c.Take("typed_extension_protocol_options"));
        maxRequests = ReadLegacyMaxRequests(c, maxRequests);
        // The deprecated cluster-level http2_protocol_options (still what many configs use) means explicit HTTP/2.
        if (c.Message("http2_protocol_options") is FieldReader legacyH2)
        {
            protocol = UpstreamProtocol.Http2;
            http2 = Http2OptionsTranslator.Read(legacyH2);
        }
        DnsLookupFamily family = c.Enum("dns_lookup_family", "AUTO", "V4_ONLY", "V6_ONLY", "V4_PREFERRED", "ALL") switch
        {
            "V4_ONLY" => DnsLookupFamily.V4Only,
            "V6_ONLY" => DnsLookupFamily.V6Only,
            "V4_PREFERRED" => DnsLookupFamily.V4Preferred,
            "ALL" => DnsLookupFamily.All,
            _ => DnsLookupFamily.Auto,
        };
        ClusterModel? model = name is null ? null : new ClusterModel
        {
            Name = name,
            Definition = DefinitionOf(node),
            Type = type,
            ConnectTimeout = c.Duration("connect_timeout") ?? TimeSpan.FromSeconds(5),
            UpstreamBind = c.Message("upstream_bind_config") is FieldReader bind ? BindConfigTranslator.Read(bind) : null,
            Tls = TlsContextTranslator.ReadUpstream(ctx, c.Take("transport_socket")),
            LbPolicy = lbName switch { "LEAST_REQUEST" => LbPolicy.LeastRequest, "RANDOM" => LbPolicy.Random, _ => LbPolicy.RoundRobin },
            LeastRequestChoiceCount = choiceCount,
            Localities = localities,
            CircuitBreakers = breakers,
            HighPriorityCircuitBreakers = high,
            UpstreamIdleTimeout = idle,
            DnsRefreshRate = c.Duration("dns_refresh_rate") ?? TimeSpan.FromSeconds(5),
            DnsLookupFamily = family,
            MaxRequestsPerConnection = maxRequests,
            UpstreamProtocol = protocol,
            Http2 = http2 ?? Http2ProtocolOptionsModel.Default,
            PerConnectionBufferLimitBytes = c.Take("per_connection_buffer_limit_bytes") is { } bl ? ctx.ClampedInt(bl) ?? 0 : 1024 * 1024,
            TransportSocketMatches = socketMatches,
            OutlierDetection = outlier,
            // Last: every field above has been read, so all of this cluster's notes are in.
            NotEnforced = ctx.NotEnforcedSince(notesStart),
        };
        c.Unsupported("eds_cluster_config", "EDS");
        c.Unsupported("health_checks", "active health checking");
        c.Unsupported("respect_dns_ttl", "respect_dns_ttl: re-resolving at each DNS record's TTL is not implemented (names are re-resolved every dns_refresh_rate)");
        c.Unsupported("upstream_connection_options", "upstream_connection_options: TCP keepalive on upstream connections is not implemented yet");
        c.Finish();
        return model;
    }

    /// <summary>Canonical JSON of the cluster without <c>load_assignment</c> (see <see cref="ClusterModel.Definition"/>).</summary>
    private static string DefinitionOf(ConfigNode node) => node is ConfigMap map
        ? ConfigJsonWriter.Write(new ConfigMap(map.Path, [.. map.Entries.Where(e => e.Key != "load_assignment")]), indented: false)
        : "";

    /// <summary>The deprecated cluster-level <c>max_requests_per_connection</c>; the protocol options' value wins when both are set.</summary>
    private static int ReadLegacyMaxRequests(FieldReader c, int fromProtocolOptions) =>
        c.Take("max_requests_per_connection") is { } n && c.Context.ClampedInt(n) is int legacy && fromProtocolOptions == 0 ? legacy : fromProtocolOptions;

    /// <summary>Istio auto-mTLS: per-endpoint choice of transport socket, each read by the same TLS translator as the cluster's.</summary>
    private static ImmutableArray<TransportSocketMatchModel> ReadTransportSocketMatches(TranslationContext ctx, ConfigNode? node)
    {
        ImmutableArray<TransportSocketMatchModel>.Builder b = ImmutableArray.CreateBuilder<TransportSocketMatchModel>();
        foreach (ConfigNode item in ctx.Items(node))
        {
            FieldReader m = new(ctx, item);
            if (!m.IsValid)
            {
                continue;
            }
            string? name = m.String("name");
            ImmutableDictionary<string, string> match = StringStruct(ctx, m.Take("match"));
            UpstreamTlsModel? tls = TlsContextTranslator.ReadUpstream(ctx, m.Take("transport_socket"));
            m.Finish();
            if (string.IsNullOrEmpty(name))
            {
                ctx.Error(item, "name is required");
                continue;
            }
            b.Add(new TransportSocketMatchModel { Name = name, Match = match, Tls = tls });
        }
        return b.ToImmutable();
    }

    /// <summary>Accepted into the model and recorded as not enforced: no host is ejected yet.</summary>
    private static OutlierDetectionModel ReadOutlierDetection(FieldReader od)
    {
        TranslationContext ctx = od.Context;
        OutlierDetectionModel d = new();
        OutlierDetectionModel model = new()
        {
            Consecutive5xx = (int)(od.Integer("consecutive_5xx", 0, int.MaxValue) ?? d.Consecutive5xx),
            ConsecutiveGatewayFailure = (int)(od.Integer("consecutive_gateway_failure", 0, int.MaxValue) ?? d.ConsecutiveGatewayFailure),
            Interval = od.Duration("interval") ?? d.Interval,
            BaseEjectionTime = od.Duration("base_ejection_time") ?? d.BaseEjectionTime,
            MaxEjectionPercent = (int)(od.Integer("max_ejection_percent", 0, 100) ?? d.MaxEjectionPercent),
        };
        od.Finish();
        ctx.NotEnforced(od.Node, "outlier_detection: not enforced yet (no host is ejected)");
        return model;
    }

    /// <summary>A protobuf Struct whose values must be strings (transport socket match keys such as <c>tlsMode: istio</c>).</summary>
    internal static ImmutableDictionary<string, string> StringStruct(TranslationContext ctx, ConfigNode? node)
    {
        if (node is null)
        {
            return ImmutableDictionary<string, string>.Empty;
        }
        if (node is not ConfigMap map)
        {
            ctx.Error(node, "expected an object");
            return ImmutableDictionary<string, string>.Empty;
        }
        ImmutableDictionary<string, string>.Builder b = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, ConfigNode> e in map.Entries)
        {
            if (e.Value is ConfigScalar { Kind: ScalarKind.String } s)
            {
                b[e.Key] = s.Text;
            }
            else
            {
                ctx.Unsupported(e.Value, "transport socket match values other than strings");
            }
        }
        return b.ToImmutable();
    }

    /// <summary>Thresholds per routing priority: (DEFAULT, HIGH); a priority not listed keeps Envoy's defaults.</summary>
    private static (CircuitBreakerModel Default, CircuitBreakerModel High) ReadCircuitBreakers(FieldReader cb)
    {
        TranslationContext ctx = cb.Context;
        CircuitBreakerModel result = CircuitBreakerModel.Default;
        CircuitBreakerModel high = CircuitBreakerModel.Default;
        foreach (ConfigNode t in ctx.Items(cb.Take("thresholds")))
        {
            FieldReader th = new(ctx, t);
            if (!th.IsValid)
            {
                continue;
            }
            string? priority = th.Enum("priority", "DEFAULT", "HIGH");
            bool isHigh = priority == "HIGH";
            // Values above int.MaxValue (istio writes 4294967295) mean "unlimited" and are clamped.
            int Limit(string field, int dflt) => th.Take(field) is { } n ? ctx.ClampedInt(n) ?? dflt : dflt;
            CircuitBreakerModel read = new()
            {
                MaxConnections = Limit("max_connections", 1024),
                MaxPendingRequests = Limit("max_pending_requests", 1024),
                MaxRequests = Limit("max_requests", 1024),
                MaxRetries = Limit("max_retries", 3),
            };
            th.Finish();
            if (isHigh)
            {
                high = read;
            }
            else
            {
                result = read;
            }
        }
        cb.Finish();
        return (result, high);
    }
}
