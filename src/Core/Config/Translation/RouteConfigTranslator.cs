using System.Collections.Immutable;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>Inline <c>route_config</c>: virtual hosts and routes.</summary>
internal static class RouteConfigTranslator
{
    public static RouteConfigModel? Translate(TranslationContext ctx, ConfigNode node, UpgradeSettings webSocket)
    {
        FieldReader r = new(ctx, node);
        if (!r.IsValid)
        {
            return null;
        }
        string name = r.String("name") ?? "";
        HeaderMutationModel request = HeaderMutationTranslator.Read(r, "request");
        HeaderMutationModel response = HeaderMutationTranslator.Read(r, "response");
        ImmutableArray<VirtualHostModel>.Builder hosts = ImmutableArray.CreateBuilder<VirtualHostModel>();
        Dictionary<string, string> domainOwner = new(StringComparer.Ordinal);
        foreach (ConfigNode vh in ctx.Items(r.Take("virtual_hosts")))
        {
            if (ReadVirtualHost(ctx, vh, webSocket, domainOwner) is VirtualHostModel v)
            {
                hosts.Add(v);
            }
        }
        r.Unsupported("vhds", "vhds (virtual host discovery)");
        r.Ignore("validate_clusters"); // We always validate cluster references of static config.
        r.Finish();
        return new RouteConfigModel { Name = name, VirtualHosts = hosts.ToImmutable(), RequestHeaders = request, ResponseHeaders = response };
    }

    private static VirtualHostModel? ReadVirtualHost(TranslationContext ctx, ConfigNode node, UpgradeSettings webSocket, Dictionary<string, string> domainOwner)
    {
        FieldReader v = new(ctx, node);
        if (!v.IsValid)
        {
            return null;
        }
        string? name = v.String("name");
        if (!v.Has("name"))
        {
            ctx.Error(node, "name is required");
        }
        ImmutableArray<string>.Builder domains = ImmutableArray.CreateBuilder<string>();
        ConfigNode? domainsNode = v.Take("domains");
        foreach (ConfigNode d in ctx.Items(domainsNode))
        {
            if (ctx.String(d) is not string domain)
            {
                continue;
            }
            string lower = domain.ToLowerInvariant();
            int stars = lower.Count(c => c == '*');
            if (lower.Length == 0 || stars > 1 || (stars == 1 && lower != "*" && !lower.StartsWith('*') && !lower.EndsWith('*')))
            {
                ctx.Error(d, $"invalid domain \"{domain}\" (exact, \"*.suffix\", \"prefix*\" or \"*\")");
                continue;
            }
            if (!domainOwner.TryAdd(lower, name ?? node.Path))
            {
                ctx.Error(d, $"domain \"{domain}\" is already used by virtual host \"{domainOwner[lower]}\"");
                continue;
            }
            domains.Add(lower);
        }
        if (domains.Count == 0 && domainsNode is not ConfigList { Items.Length: > 0 })
        {
            ctx.Error(domainsNode ?? node, "domains needs at least one entry");
        }
        HeaderMutationModel request = HeaderMutationTranslator.Read(v, "request");
        HeaderMutationModel response = HeaderMutationTranslator.Read(v, "response");
        RetryPolicyModel? retry = v.Take("retry_policy") is { } rp ? ReadRetryPolicy(ctx, rp) : null;
        ImmutableArray<RouteModel>.Builder routes = ImmutableArray.CreateBuilder<RouteModel>();
        foreach (ConfigNode rn in ctx.Items(v.Take("routes")))
        {
            if (ReadRoute(ctx, rn, webSocket, retry) is RouteModel route)
            {
                routes.Add(route);
            }
        }
        v.Unsupported("require_tls", "require_tls");
        v.Unsupported("typed_per_filter_config", "typed_per_filter_config");
        v.Unsupported("cors", "cors");
        v.Unsupported("rate_limits", "rate_limits");
        v.Finish();
        return name is null ? null : new VirtualHostModel
        {
            Name = name,
            Domains = domains.ToImmutable(),
            Routes = routes.ToImmutable(),
            RequestHeaders = request,
            ResponseHeaders = response,
            RetryPolicy = retry,
        };
    }

    private static RouteModel? ReadRoute(TranslationContext ctx, ConfigNode node, UpgradeSettings webSocket, RetryPolicyModel? vhostRetry)
    {
        FieldReader r = new(ctx, node);
        if (!r.IsValid)
        {
            return null;
        }
        string name = r.String("name") ?? "";
        ConfigNode? matchNode = r.Take("match");
        RouteMatchModel? match = matchNode is null ? null : MatcherTranslator.ReadRouteMatch(ctx, matchNode);
        if (matchNode is null)
        {
            ctx.Error(node, "match is required");
        }
        int actions = 0;
        RouteActionModel? action = null;
        DirectResponseModel? direct = null;
        RedirectModel? redirect = null;
        if (r.Message("route") is FieldReader ra)
        {
            action = RouteActionTranslator.Read(ra, webSocket, vhostRetry);
            actions++;
        }
        if (r.Message("direct_response") is FieldReader dr)
        {
            direct = RouteActionTranslator.ReadDirectResponse(dr);
            actions++;
        }
        if (r.Message("redirect") is FieldReader rd)
        {
            redirect = RouteActionTranslator.ReadRedirect(rd);
            actions++;
        }
        HeaderMutationModel request = HeaderMutationTranslator.Read(r, "request");
        HeaderMutationModel response = HeaderMutationTranslator.Read(r, "response");
        r.Unsupported("typed_per_filter_config", "typed_per_filter_config");
        r.Unsupported("filter_action", "filter_action");
        r.Unsupported("non_forwarding_action", "non_forwarding_action");
        // decorator only names the tracing span (tracing is recorded as not enforced on the connection manager);
        // route metadata is read by filters we do not run and by management tools (Istio's config source).
        r.Ignore("decorator");
        r.Ignore("metadata");
        r.Finish();
        if (actions != 1)
        {
            ctx.Error(node, "exactly one of route, redirect and direct_response is required");
            return null;
        }
        return match is null || (action is null && direct is null && redirect is null) ? null : new RouteModel
        {
            Name = name,
            Match = match,
            Action = action,
            DirectResponse = direct,
            Redirect = redirect,
            RequestHeaders = request,
            ResponseHeaders = response,
        };
    }

    /// <summary>retry_policy basics (virtual host or route level).</summary>
    public static RetryPolicyModel? ReadRetryPolicy(TranslationContext ctx, ConfigNode node)
    {
        FieldReader p = new(ctx, node);
        if (!p.IsValid)
        {
            return null;
        }
        RetryOn on = RetryOn.None;
        if (p.Take("retry_on") is { } ron && ctx.String(ron) is string list)
        {
            foreach (string raw in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                RetryOn flag = raw switch
                {
                    "5xx" => RetryOn.FiveXx,
                    "gateway-error" => RetryOn.GatewayError,
                    "reset" => RetryOn.Reset,
                    "connect-failure" => RetryOn.ConnectFailure,
                    "retriable-status-codes" => RetryOn.RetriableStatusCodes,
                    "refused-stream" => RetryOn.RefusedStream,
                    _ => RetryOn.None,
                };
                if (flag == RetryOn.None)
                {
                    ctx.Unsupported(ron, $"retry_on condition \"{raw}\"");
                }
                on |= flag;
            }
        }
        int retries = (int)(p.Integer("num_retries", 0, uint.MaxValue) is long n ? Math.Min(n, int.MaxValue) : 1);
        TimeSpan perTry = p.Duration("per_try_timeout") ?? TimeSpan.Zero;
        ImmutableArray<int>.Builder codes = ImmutableArray.CreateBuilder<int>();
        foreach (ConfigNode c in ctx.Items(p.Take("retriable_status_codes")))
        {
            if (ctx.Integer(c, 100, 599) is long code)
            {
                codes.Add((int)code);
            }
        }
        p.Unsupported("retry_host_predicate", "retry_host_predicate");
        p.Unsupported("retry_priority", "retry_priority");
        p.Unsupported("host_selection_retry_max_attempts", "host_selection_retry_max_attempts");
        p.Unsupported("retry_back_off", "retry_back_off");
        p.Unsupported("per_try_idle_timeout", "per_try_idle_timeout");
        p.Unsupported("retriable_headers", "retriable_headers");
        p.Finish();
        return new RetryPolicyModel { RetryOn = on, NumRetries = retries, PerTryTimeout = perTry, RetriableStatusCodes = codes.ToImmutable() };
    }
}
