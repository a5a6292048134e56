using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>
/// Istio's own extensions (not Envoy messages, so not in the Envoy field catalog): selected by filter name or by
/// typed_config type, also when wrapped in a TypedStruct (<c>type_url</c> names the real type).
/// </summary>
internal static class IstioExtension
{
    public static readonly Extension Stats = new("istio.stats", "stats.PluginConfig");
    public static readonly Extension Alpn = new("istio.alpn", "istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig");
    public static readonly Extension MetadataExchange = new("istio.metadata_exchange", "envoy.tcp.metadataexchange.config.MetadataExchange");
    public static readonly Extension PeerMetadata = new("istio.peer_metadata", "io.istio.http.peer_metadata.Config");
    public static readonly Extension NetworkAuthn = new("istio_authn", "io.istio.network.authn.Config");
    // An Envoy message, but accepted only as the carrier of Istio's compiled-in (null VM) plugins.
    public static readonly Extension Wasm = new("envoy.filters.http.wasm", "envoy.extensions.filters.http.wasm.v3.Wasm");

    public const string UdpaTypedStruct = "udpa.type.v1.TypedStruct";
    public const string XdsTypedStruct = "xds.type.v3.TypedStruct";
}

/// <summary>
/// The non-terminal filters istiod puts in front of tcp_proxy / the router. Each is either
/// (a) telemetry or metadata only: accepted, its options not read, and recorded as not enforced; or
/// (b) an enforcement filter (RBAC, fault, cors): accepted only when its configuration provably does nothing,
///     and otherwise refused with what it would have enforced. Anything else stays refused by the caller.
/// Returns false when the filter is not one of these (the caller refuses it).
/// </summary>
internal static class PassiveFilterTranslator
{
    // TypedStruct is a udpa/xds message, not an Envoy one: its type_url is peeked at, not read as a catalog field.
    private const string TypedStructTypeUrl = "type_url";

    public static bool TryHttp(TranslationContext ctx, ExtensionEntry e)
    {
        string id = Unwrap(e, out bool wrapped);
        if (IstioExtension.Stats.Matches(id) || IstioExtension.PeerMetadata.Matches(id) || Extension.GrpcStats.Matches(id))
        {
            return Telemetry(ctx, e, id, "telemetry (metrics and peer metadata are not produced)");
        }
        if (IstioExtension.Alpn.Matches(id))
        {
            // istio.alpn rewrites the upstream ALPN to the istio-peer-exchange variants for metadata exchange;
            // our upstream TLS offers the cluster's own ALPN list, so only peer telemetry is affected.
            return Telemetry(ctx, e, id, "telemetry: the istio-peer-exchange ALPN override is not applied upstream");
        }
        if (Extension.Compressor.Matches(id))
        {
            // Envoy compresses only when the client allows it; an uncompressed (identity) response is acceptable to
            // every client that did not send "identity;q=0" (RFC 9110 §12.5.3), so skipping compression changes size, not meaning.
            return Telemetry(ctx, e, id, "response compression: responses are sent uncompressed");
        }
        if (wrapped)
        {
            return false;
        }
        if (IstioExtension.Wasm.Matches(id) && IsIstioNativePlugin(e))
        {
            // The null VM runs no Wasm: it names a plugin compiled into istio-proxy, Istio's own telemetry.
            return Telemetry(ctx, e, id, "telemetry: Istio's native (null VM) metadata exchange / stats plugin");
        }
        if (Extension.Fault.Matches(id))
        {
            // With neither delay nor abort the filter injects nothing; per-route overrides (typed_per_filter_config) are refused by the route translator.
            e.Config?.Unsupported("delay", "fault injection (delay) is not implemented");
            e.Config?.Unsupported("abort", "fault injection (abort) is not implemented");
            e.FinishEmpty();
            ctx.NotEnforced(e.IdNode, $"{id}: no delay or abort configured, nothing to inject");
            return true;
        }
        if (Extension.Cors.Matches(id))
        {
            // The filter acts only on CORS policies of virtual hosts and routes, which the route translator refuses.
            e.FinishEmpty();
            ctx.NotEnforced(e.IdNode, $"{id}: no CORS policy on any route, nothing to apply");
            return true;
        }
        if (Extension.HttpRbac.Matches(id))
        {
            e.Config?.Unsupported("rules", "RBAC rules (an enforced authorization policy: allow or deny each request; even empty rules deny all) are not implemented yet");
            e.Config?.Unsupported("matcher", "RBAC matcher (an enforced authorization policy) is not implemented yet");
            IgnoreShadowRules(ctx, e, id);
            e.Config?.Ignore("rules_stat_prefix");
            e.FinishEmpty();
            return true;
        }
        return false;
    }

    public static bool TryNetwork(TranslationContext ctx, ExtensionEntry e)
    {
        string id = Unwrap(e, out bool wrapped);
        if (IstioExtension.Stats.Matches(id) || IstioExtension.MetadataExchange.Matches(id))
        {
            return Telemetry(ctx, e, id, "telemetry (metrics and peer metadata exchange are not produced)");
        }
        if (IstioExtension.NetworkAuthn.Matches(id))
        {
            // Records the peer's SPIFFE identity in filter state for RBAC and telemetry; it denies nothing itself.
            return Telemetry(ctx, e, id, "peer identity recorded for telemetry and RBAC, neither of which is produced");
        }
        if (!wrapped && Extension.NetworkRbac.Matches(id))
        {
            e.Config?.Unsupported("rules", "RBAC rules (an enforced authorization policy: allow or deny each connection; even empty rules deny all) are not implemented yet");
            e.Config?.Unsupported("matcher", "RBAC matcher (an enforced authorization policy) is not implemented yet");
            IgnoreShadowRules(ctx, e, id);
            e.Config?.Ignore("stat_prefix");
            e.Config?.Ignore("enforcement_type"); // says when rules are evaluated; there are none
            e.FinishEmpty();
            return true;
        }
        return false;
    }

    /// <summary>Istio's compiled-in plugins behind an old-style Wasm filter: the null VM with one of their names.</summary>
    private static readonly HashSet<string> IstioNullVmPlugins = new(StringComparer.Ordinal) { "envoy.wasm.metadata_exchange", "envoy.wasm.stats" };

    /// <summary>
    /// True for <c>config.vm_config</c> with runtime <c>envoy.wasm.runtime.null</c> and inline code naming one of Istio's
    /// native plugins (the 1.x "stats_inbound"/"stats_outbound" and metadata exchange filters). Only peeks: whoever
    /// accepts the filter takes its fields.
    /// </summary>
    private static bool IsIstioNativePlugin(ExtensionEntry e)
    {
        if (e.Config?.Node is not ConfigMap wasm || wasm.Get("config") is not ConfigMap config || config.Get("vm_config") is not ConfigMap vm)
        {
            return false;
        }
        bool nullVm = vm.Get("runtime") is ConfigScalar { Kind: ScalarKind.String } runtime && runtime.Text == "envoy.wasm.runtime.null";
        bool native = vm.Get("code") is ConfigMap code && code.Get("local") is ConfigMap local
            && local.Get("inline_string") is ConfigScalar { Kind: ScalarKind.String } name && IstioNullVmPlugins.Contains(name.Text);
        return nullVm && native;
    }

    /// <summary>Shadow rules only count would-be decisions (Istio's dry-run and CUSTOM-action bookkeeping); nothing is denied.</summary>
    private static void IgnoreShadowRules(TranslationContext ctx, ExtensionEntry e, string id)
    {
        if (e.Config is not FieldReader c)
        {
            return;
        }
        if (c.Has("shadow_rules") || c.Has("shadow_matcher"))
        {
            ctx.NotEnforced(e.IdNode, $"{id}: shadow rules (dry-run statistics only) are not evaluated");
        }
        c.Ignore("shadow_rules");
        c.Ignore("shadow_matcher");
        c.Ignore("shadow_rules_stat_prefix");
    }

    private static bool Telemetry(TranslationContext ctx, ExtensionEntry e, string id, string what)
    {
        e.Config?.IgnoreAll();
        ctx.NotEnforced(e.IdNode, $"{id}: not implemented: {what}");
        return true;
    }

    /// <summary>The extension id, looking inside a TypedStruct at the type it wraps (its fields are taken by whoever accepts it).</summary>
    public static string Unwrap(ExtensionEntry e, out bool wrapped)
    {
        wrapped = e.Id is IstioExtension.UdpaTypedStruct or IstioExtension.XdsTypedStruct;
        if (!wrapped || e.Config?.Node is not ConfigMap m || m.Get(TypedStructTypeUrl) is not ConfigScalar { Kind: ScalarKind.String } url)
        {
            return e.Id;
        }
        return url.Text[(url.Text.LastIndexOf('/') + 1)..];
    }

    /// <summary>Why a filter we do not run is refused: what it would have done to traffic.</summary>
    public static string RefusalReason(string kind, string id) => id switch
    {
        "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz" or "envoy.filters.http.ext_authz" =>
            $"{kind} {id}: external authorization (each request would be allowed or denied by an authorization service) is not implemented yet",
        "envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication" or "envoy.filters.http.jwt_authn" =>
            $"{kind} {id}: JWT authentication (requests with invalid tokens would be rejected) is not implemented yet",
        "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit" or "envoy.filters.http.local_ratelimit" =>
            $"{kind} {id}: local rate limiting (requests over the limit would get 429) is not implemented yet",
        "envoy.extensions.filters.http.wasm.v3.Wasm" or "envoy.filters.http.wasm" =>
            $"{kind} {id}: Wasm plugins (arbitrary code acting on each request) cannot run here",
        "envoy.extensions.filters.network.set_filter_state.v3.Config" =>
            $"{kind} {id}: filter state for upstream selection (e.g. HBONE tunnelling) is not implemented",
        _ => $"{kind} {id}",
    };
}
