using System.Collections.Immutable;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>The three route actions: <c>route</c>, <c>direct_response</c>, <c>redirect</c>.</summary>
internal static class RouteActionTranslator
{
    public static RouteActionModel? Read(FieldReader a, UpgradeSettings webSocket, RetryPolicyModel? vhostRetry)
    {
        TranslationContext ctx = a.Context;
        if (!a.IsValid)
        {
            return null;
        }
        string cluster = "";
        if (a.Take("cluster") is { } cn && ctx.String(cn) is string c)
        {
            cluster = c;
            ctx.ReferenceCluster(cn, c);
        }
        ImmutableArray<WeightedClusterModel> weighted = [];
        if (a.Message("weighted_clusters") is FieldReader wc)
        {
            wc.Unsupported("total_weight", "total_weight (deprecated)");
            wc.Unsupported("runtime_key_prefix", "runtime_key_prefix");
            weighted = WeightedClusters.Read(wc);
        }
        a.Unsupported("cluster_header", "cluster_header");
        a.Unsupported("cluster_specifier_plugin", "cluster_specifier_plugin");
        if ((cluster.Length == 0) == weighted.IsEmpty && !a.Has("cluster_header"))
        {
            ctx.Error(a.Node, "exactly one of cluster and weighted_clusters is required");
        }
        string? prefixRewrite = a.String("prefix_rewrite");
        string? hostRewrite = a.String("host_rewrite_literal");
        RetryPolicyModel? retry = a.Take("retry_policy") is { } rp ? RouteConfigTranslator.ReadRetryPolicy(ctx, rp) : vhostRetry;
        UpgradeSettings own = HttpConnectionManagerTranslator.ReadUpgradeConfigs(ctx, a.Take("upgrade_configs"), allowFilters: false);
        bool ws = own.WebSocket ?? webSocket.WebSocket ?? false;
        bool connect = own.Connect ?? webSocket.Connect ?? false;
        bool terminate = own.Connect is not null ? own.TerminateConnect : webSocket.TerminateConnect;
        GrpcTimeoutRule grpcTimeout = ReadGrpcTimeout(a);
        RouteActionModel model = new()
        {
            Cluster = cluster,
            WeightedClusters = weighted,
            Timeout = a.Duration("timeout") ?? TimeSpan.FromSeconds(15),
            IdleTimeout = a.Duration("idle_timeout") ?? TimeSpan.Zero,
            PrefixRewrite = prefixRewrite,
            HostRewriteLiteral = hostRewrite,
            RetryPolicy = retry,
            AllowWebSocket = ws,
            AllowConnect = connect,
            TerminateConnect = connect && terminate,
            GrpcTimeout = grpcTimeout,
        };
        a.Unsupported("regex_rewrite", "regex_rewrite");
        a.Unsupported("auto_host_rewrite", "auto_host_rewrite");
        a.Unsupported("host_rewrite_header", "host_rewrite_header");
        a.Unsupported("request_mirror_policies", "request_mirror_policies (traffic mirroring)");
        a.Unsupported("hash_policy", "hash_policy");
        a.Unsupported("rate_limits", "rate_limits");
        a.Unsupported("cors", "cors");
        a.Finish();
        return model;
    }

    /// <summary>
    /// max_stream_duration (a positive limit is refused: streams are not cut short yet) with grpc_timeout_header_max /
    /// _offset, and the older max_grpc_timeout / grpc_timeout_offset. Either makes the request's grpc-timeout header
    /// the deadline for the upstream's answer (<see cref="GrpcTimeoutRule"/>); Envoy ignores the older pair when
    /// max_stream_duration is set.
    /// </summary>
    private static GrpcTimeoutRule ReadGrpcTimeout(FieldReader a)
    {
        TranslationContext ctx = a.Context;
        GrpcTimeoutRule rule = GrpcTimeoutRule.None;
        TimeSpan? legacyMax = a.Duration("max_grpc_timeout");
        TimeSpan legacyOffset = a.Duration("grpc_timeout_offset") ?? TimeSpan.Zero;
        if (legacyMax is TimeSpan lm)
        {
            rule = new GrpcTimeoutRule(GrpcTimeoutKind.RouteTimeout, lm, legacyOffset);
        }
        if (a.Message("max_stream_duration") is FieldReader msd)
        {
            // Zero (Istio's default) disables the limit, which is our behaviour; a positive limit would end long streams.
            if (msd.Duration("max_stream_duration") is TimeSpan limit && limit > TimeSpan.Zero)
            {
                ctx.Unsupported(msd.Node, "max_stream_duration: a limit on a stream's total duration is not implemented yet");
            }
            TimeSpan? headerMax = msd.Duration("grpc_timeout_header_max");
            TimeSpan headerOffset = msd.Duration("grpc_timeout_header_offset") ?? TimeSpan.Zero;
            msd.Finish();
            rule = headerMax is TimeSpan hm ? new GrpcTimeoutRule(GrpcTimeoutKind.StreamDuration, hm, headerOffset) : GrpcTimeoutRule.None;
        }
        return rule;
    }

    public static DirectResponseModel? ReadDirectResponse(FieldReader d)
    {
        TranslationContext ctx = d.Context;
        if (!d.IsValid)
        {
            return null;
        }
        int? status = d.Take("status") is { } sn ? (int?)ctx.Integer(sn, 100, 599) : null;
        if (!d.Has("status"))
        {
            ctx.Error(d.Node, "status is required");
        }
        byte[] body = d.Message("body") is FieldReader b ? DataSourceTranslator.Read(b) ?? [] : [];
        d.Finish();
        return status is int st ? new DirectResponseModel { Status = st, Body = body } : null;
    }

    public static RedirectModel? ReadRedirect(FieldReader r)
    {
        TranslationContext ctx = r.Context;
        if (!r.IsValid)
        {
            return null;
        }
        string? scheme = r.String("scheme_redirect");
        bool https = r.Bool("https_redirect") ?? false;
        if (scheme is not null && r.Has("https_redirect"))
        {
            ctx.Error(r.Node, "scheme_redirect and https_redirect are mutually exclusive");
        }
        string? path = r.String("path_redirect");
        string? prefix = r.String("prefix_rewrite");
        if (path is not null && prefix is not null)
        {
            ctx.Error(r.Node, "path_redirect and prefix_rewrite are mutually exclusive");
        }
        int code = r.Enum("response_code", "MOVED_PERMANENTLY", "FOUND", "SEE_OTHER", "TEMPORARY_REDIRECT", "PERMANENT_REDIRECT") switch
        {
            "FOUND" => 302,
            "SEE_OTHER" => 303,
            "TEMPORARY_REDIRECT" => 307,
            "PERMANENT_REDIRECT" => 308,
            _ => 301,
        };
        RedirectModel model = new()
        {
            HostRedirect = r.String("host_redirect"),
            PortRedirect = r.Take("port_redirect") is { } pn ? (int?)ctx.Integer(pn, 1, 65535) : null,
            PathRedirect = path,
            PrefixRewrite = prefix,
            SchemeRedirect = scheme,
            HttpsRedirect = https,
            StripQuery = r.Bool("strip_query") ?? false,
            ResponseCode = code,
        };
        r.Unsupported("regex_rewrite", "regex_rewrite");
        r.Finish();
        return model;
    }
}
