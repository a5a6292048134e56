using System.Collections.Immutable;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>Envoy <c>config.listener.v3.Listener</c> to <see cref="ListenerModel"/>.</summary>
internal static class ListenerTranslator
{
    public static ListenerModel? Translate(TranslationContext ctx, ConfigNode node)
    {
        FieldReader l = new(ctx, node);
        if (!l.IsValid)
        {
            return null;
        }
        // Envoy names unnamed listeners with a UUID; the path is just as unique and is stable across reloads.
        string name = l.String("name") ?? node.Path;
        int notesStart = ctx.NotEnforcedCount;
        FieldReader? address = l.Message("address");
        System.Net.IPEndPoint? endpoint = address is null ? null : AddressTranslator.ReadIpEndPoint(address);
        if (address is null)
        {
            ctx.Error(node, "address is required");
        }
        bool originalDstFilter = ReadListenerFilters(ctx, l.Take("listener_filters"));
        TimeSpan detect = l.Duration("listener_filters_timeout") ?? TimeSpan.FromSeconds(15);
        bool useOriginalDst = l.Bool("use_original_dst") ?? false;
        bool transparent = l.Bool("transparent") ?? false;
        bool freebind = l.Bool("freebind") ?? false;
        int bufferLimit = l.Take("per_connection_buffer_limit_bytes") is { } bl ? ctx.ClampedInt(bl) ?? 0 : 1024 * 1024;
        ImmutableArray<FilterChainModel>.Builder chains = ImmutableArray.CreateBuilder<FilterChainModel>();
        foreach (ConfigNode chainNode in ctx.Items(l.Take("filter_chains")))
        {
            if (FilterChainTranslator.Translate(ctx, chainNode, allowMatch: true) is FilterChainModel chain)
            {
                chains.Add(chain);
            }
        }
        FilterChainModel? defaultChain = l.Take("default_filter_chain") is { } dn ? FilterChainTranslator.Translate(ctx, dn, allowMatch: false) : null;
        if (!l.Has("filter_chains") && !l.Has("default_filter_chain"))
        {
            ctx.Error(node, "a listener needs filter_chains or a default_filter_chain");
        }
        bool continueOnTimeout = l.Bool("continue_on_listener_filters_timeout") ?? false;
        bool bindToPort = l.Bool("bind_to_port") ?? true;
        TrafficDirection direction = l.Enum("traffic_direction", "UNSPECIFIED", "INBOUND", "OUTBOUND") switch
        {
            "INBOUND" => TrafficDirection.Inbound,
            "OUTBOUND" => TrafficDirection.Outbound,
            _ => TrafficDirection.Unspecified,
        };
        // Metadata is for management tools (istioctl reads Istio's there); Envoy itself does not act on it.
        l.Ignore("metadata");
        // We have neither an overload manager nor a global connection limit, so exempting a listener from them changes nothing.
        l.Ignore("bypass_overload_manager");
        l.Ignore("ignore_global_conn_limit");
        l.Finish();
        if (endpoint is null)
        {
            return null;
        }
        return new ListenerModel
        {
            Name = name,
            Address = endpoint,
            UseOriginalDst = useOriginalDst,
            OriginalDstFilter = originalDstFilter,
            Transparent = transparent,
            Freebind = freebind,
            FilterChains = chains.ToImmutable(),
            DefaultFilterChain = defaultChain,
            DetectTimeout = detect,
            PerConnectionBufferLimitBytes = bufferLimit,
            BindToPort = bindToPort,
            TrafficDirection = direction,
            ContinueOnListenerFiltersTimeout = continueOnTimeout,
            NotEnforced = ctx.NotEnforcedSince(notesStart),
        };
    }

    /// <summary>
    /// TLS/HTTP inspection and SO_ORIGINAL_DST recovery are built into our connection detection, so these
    /// three listener filters are accepted (with no options); any other listener filter is refused.
    /// Returns whether original_dst was listed.
    /// </summary>
    private static bool ReadListenerFilters(TranslationContext ctx, ConfigNode? node)
    {
        bool originalDst = false;
        foreach (ConfigNode item in ctx.Items(node))
        {
            FieldReader f = new(ctx, item);
            if (!f.IsValid || ExtensionEntry.Read(f) is not ExtensionEntry e)
            {
                continue;
            }
            if (Extension.TlsInspector.Matches(e.Id) || Extension.HttpInspector.Matches(e.Id))
            {
                e.FinishEmpty();
            }
            else if (Extension.OriginalDst.Matches(e.Id))
            {
                originalDst = true;
                e.FinishEmpty();
            }
            else
            {
                ctx.Unsupported(e.IdNode, $"listener filter {e.Id}");
            }
        }
        return originalDst;
    }
}

/// <summary>Envoy <c>FilterChain</c>: the match plus exactly one terminal network filter.</summary>
internal static class FilterChainTranslator
{
    public static FilterChainModel? Translate(TranslationContext ctx, ConfigNode node, bool allowMatch)
    {
        FieldReader fc = new(ctx, node);
        if (!fc.IsValid)
        {
            return null;
        }
        string name = fc.String("name") ?? "";
        FilterChainMatchModel match = FilterChainMatchModel.Any;
        if (allowMatch && fc.Message("filter_chain_match") is FieldReader m)
        {
            match = ReadMatch(m);
        }
        else if (!allowMatch && fc.Take("filter_chain_match") is { } dm && dm is not ConfigMap { Entries.IsEmpty: true })
        {
            // Istio writes an empty match on its default chain: that matches everything, which is what a default chain does.
            ctx.Error(dm, "the default_filter_chain is used when no other chain matches; it takes no filter_chain_match conditions");
        }
        DownstreamTlsModel? tls = TlsContextTranslator.ReadDownstream(ctx, fc.Take("transport_socket"), fc.Duration("transport_socket_connect_timeout"));
        TcpProxyModel? tcp = null;
        HttpConnectionManagerModel? http = null;
        ImmutableArray<ConfigNode> filters = ctx.Items(fc.Take("filters"));
        for (int i = 0; i < filters.Length; i++)
        {
            FieldReader f = new(ctx, filters[i]);
            if (!f.IsValid || ExtensionEntry.Read(f) is not ExtensionEntry e)
            {
                continue;
            }
            bool last = i == filters.Length - 1;
            if (Extension.TcpProxy.Matches(e.Id) || Extension.HttpConnectionManager.Matches(e.Id))
            {
                if (!last)
                {
                    ctx.Error(filters[i], "a terminal filter must be the last network filter");
                }
                if (e.Config is null)
                {
                    ctx.Error(filters[i], "typed_config is required");
                }
                else if (Extension.TcpProxy.Matches(e.Id))
                {
                    tcp = TcpProxyTranslator.Translate(e.Config);
                }
                else
                {
                    http = HttpConnectionManagerTranslator.Translate(e.Config);
                }
            }
            else if (last || !PassiveFilterTranslator.TryNetwork(ctx, e))
            {
                ctx.Unsupported(e.IdNode, PassiveFilterTranslator.RefusalReason("network filter", PassiveFilterTranslator.Unwrap(e, out _)));
            }
        }
        if (filters.IsEmpty)
        {
            ctx.Error(node, "a filter chain needs a tcp_proxy or http_connection_manager filter");
        }
        fc.Finish();
        return tcp is null && http is null ? null : new FilterChainModel { Name = name, Match = match, TcpProxy = tcp, Http = http, Tls = tls };
    }

    /// <summary>
    /// Destination prefix_ranges: the chain selector does not match on destination CIDRs, so only ranges that match
    /// every address (prefix length 0, which Istio's inbound passthrough chains use) are accepted, as no condition.
    /// </summary>
    private static void ReadCatchAllPrefixRanges(TranslationContext ctx, ConfigNode? node)
    {
        foreach (ConfigNode item in ctx.Items(node))
        {
            FieldReader r = new(ctx, item);
            if (!r.IsValid)
            {
                continue;
            }
            string? prefix = r.String("address_prefix");
            long length = r.Integer("prefix_len", 0, 128) ?? 0;
            r.Finish();
            if (prefix is not null && !System.Net.IPAddress.TryParse(prefix, out _))
            {
                ctx.Error(item, $"address_prefix \"{prefix}\" is not an IP address");
            }
            else if (length != 0)
            {
                ctx.Unsupported(item, $"filter_chain_match.prefix_ranges {prefix}/{length}: matching chains on destination address ranges is not implemented (only /0, which matches every address)");
            }
        }
    }

    private static FilterChainMatchModel ReadMatch(FieldReader m)
    {
        TranslationContext ctx = m.Context;
        if (!m.IsValid)
        {
            return FilterChainMatchModel.Any;
        }
        int? port = m.Take("destination_port") is { } pn ? (int?)ctx.Integer(pn, 1, 65535) : null;
        ImmutableArray<string> serverNames = [.. ctx.Strings(m.Take("server_names")).Select(s => s.ToLowerInvariant())];
        string? transport = m.Enum("transport_protocol", "tls", "raw_buffer");
        ImmutableArray<string> alpn = ctx.Strings(m.Take("application_protocols"));
        ReadCatchAllPrefixRanges(ctx, m.Take("prefix_ranges"));
        m.Finish();
        return new FilterChainMatchModel
        {
            DestinationPort = port,
            ServerNames = serverNames,
            TransportProtocol = transport,
            ApplicationProtocols = alpn,
        };
    }
}

/// <summary>Envoy <c>envoy.filters.network.tcp_proxy</c>.</summary>
internal static class TcpProxyTranslator
{
    public static TcpProxyModel? Translate(FieldReader t)
    {
        TranslationContext ctx = t.Context;
        string? statPrefix = t.String("stat_prefix");
        if (statPrefix is null)
        {
            ctx.Error(t.Node, "stat_prefix is required");
        }
        string cluster = "";
        if (t.Take("cluster") is { } cn && ctx.String(cn) is string c)
        {
            cluster = c;
            ctx.ReferenceCluster(cn, c);
        }
        ImmutableArray<WeightedClusterModel> weighted = [];
        if (t.Message("weighted_clusters") is FieldReader wc)
        {
            weighted = WeightedClusters.Read(wc);
        }
        if ((cluster.Length == 0) == weighted.IsEmpty)
        {
            ctx.Error(t.Node, "exactly one of cluster and weighted_clusters is required");
        }
        TimeSpan idle = t.Duration("idle_timeout") ?? TimeSpan.FromHours(1);
        int attempts = t.Take("max_connect_attempts") is { } an ? (int)(ctx.Integer(an, 1, int.MaxValue) ?? 1) : 1;
        // Access logging is our telemetry's job; Envoy access_log settings are accepted and not acted on (docs/CONFIG.md).
        t.Ignore("access_log");
        t.Finish();
        return statPrefix is null ? null : new TcpProxyModel
        {
            StatPrefix = statPrefix,
            Cluster = cluster,
            WeightedClusters = weighted,
            IdleTimeout = idle,
            MaxConnectAttempts = attempts,
        };
    }
}

/// <summary><c>weighted_clusters.clusters[]</c>, shared by tcp_proxy and routes.</summary>
internal static class WeightedClusters
{
    public static ImmutableArray<WeightedClusterModel> Read(FieldReader wc)
    {
        TranslationContext ctx = wc.Context;
        ImmutableArray<WeightedClusterModel>.Builder b = ImmutableArray.CreateBuilder<WeightedClusterModel>();
        ImmutableArray<ConfigNode> items = ctx.Items(wc.Take("clusters"));
        if (wc.IsValid && items.IsEmpty)
        {
            ctx.Error(wc.Node, "weighted_clusters needs at least one cluster");
        }
        foreach (ConfigNode item in items)
        {
            FieldReader w = new(ctx, item);
            if (!w.IsValid)
            {
                continue;
            }
            ConfigNode? nameNode = w.Take("name");
            string? name = nameNode is null ? null : ctx.String(nameNode);
            int? weight = w.Take("weight") is { } wn ? (int?)ctx.Integer(wn, 1, int.MaxValue) : null;
            if (!w.Has("weight"))
            {
                ctx.Error(item, "weight is required and must be > 0");
            }
            w.Finish();
            if (nameNode is null)
            {
                ctx.Error(item, "name is required");
            }
            if (name is not null && nameNode is not null)
            {
                ctx.ReferenceCluster(nameNode, name);
                if (weight is int wt)
                {
                    b.Add(new WeightedClusterModel { Name = name, Weight = wt });
                }
            }
        }
        wc.Finish();
        return b.ToImmutable();
    }
}
