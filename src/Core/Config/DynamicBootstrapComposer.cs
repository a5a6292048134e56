using System.Collections.Immutable;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config;

/// <summary>
/// Turns xDS resources (already decoded into config trees) plus the bootstrap's static part into ONE bootstrap tree,
/// so the same translators that read a static file read what istiod sends: a listener's HCM <c>rds</c> becomes the
/// inline <c>route_config</c> it names, and an EDS cluster becomes a STATIC one with its <c>load_assignment</c>.
/// Error paths name the resource (<c>listener "virtualInbound".filter_chains[3]…</c>), not the synthetic tree.
/// </summary>
public static class DynamicBootstrapComposer
{
    /// <param name="bootstrap">The static bootstrap tree (its <c>dynamic_resources</c> is dropped), or null.</param>
    /// <param name="listeners">LDS resources by name, in the order to serve them.</param>
    /// <param name="routes">RDS resources by name.</param>
    /// <param name="clusters">CDS resources by name.</param>
    /// <param name="endpoints">EDS resources by service name.</param>
    public static ConfigNode Compose(
        ConfigNode? bootstrap,
        IReadOnlyList<KeyValuePair<string, ConfigNode>> listeners,
        IReadOnlyDictionary<string, ConfigNode> routes,
        IReadOnlyList<KeyValuePair<string, ConfigNode>> clusters,
        IReadOnlyDictionary<string, ConfigNode> endpoints)
    {
        int order = 0;
        var root = new List<KeyValuePair<string, ConfigNode>>();
        var staticListeners = new List<ConfigNode>();
        var staticClusters = new List<ConfigNode>();
        if (bootstrap is ConfigMap b)
        {
            ConfigNode rebased = b.Rebase("", ref order);
            foreach (KeyValuePair<string, ConfigNode> e in ((ConfigMap)rebased).Entries)
            {
                if (e.Key == "dynamic_resources") continue; // served by the xDS client itself
                if (e.Key == "static_resources" && e.Value is ConfigMap sr)
                {
                    if (sr.Get("listeners") is ConfigList sl) staticListeners.AddRange(sl.Items);
                    if (sr.Get("clusters") is ConfigList sc) staticClusters.AddRange(sc.Items);
                    foreach (KeyValuePair<string, ConfigNode> other in sr.Entries)
                    {
                        if (other.Key is not ("listeners" or "clusters")) root.Add(new("static_resources." + other.Key, other.Value));
                    }
                    continue;
                }
                root.Add(e);
            }
        }
        foreach ((string name, ConfigNode listener) in listeners)
        {
            ConfigNode l = listener.Rebase($"listener \"{name}\"", ref order);
            staticListeners.Add(InlineRoutes(l, routes, ref order));
        }
        foreach ((string name, ConfigNode cluster) in clusters)
        {
            ConfigNode c = cluster.Rebase($"cluster \"{name}\"", ref order);
            staticClusters.Add(InlineEndpoints(c, name, endpoints, ref order));
        }
        var resources = ImmutableArray.CreateBuilder<KeyValuePair<string, ConfigNode>>();
        resources.Add(new("listeners", new ConfigList("static_resources.listeners", [.. staticListeners], order++)));
        resources.Add(new("clusters", new ConfigList("static_resources.clusters", [.. staticClusters], order++)));
        // Entries of static_resources other than listeners/clusters (e.g. secrets) keep their place for the translator to judge.
        var top = ImmutableArray.CreateBuilder<KeyValuePair<string, ConfigNode>>();
        foreach (KeyValuePair<string, ConfigNode> e in root)
        {
            if (e.Key.StartsWith("static_resources.", StringComparison.Ordinal)) resources.Add(new(e.Key["static_resources.".Length..], e.Value));
            else top.Add(e);
        }
        top.Add(new("static_resources", new ConfigMap("static_resources", resources.ToImmutable(), order++)));
        return new ConfigMap("", top.ToImmutable(), order++);
    }

    /// <summary>Every HCM in the listener (filter chains and the default chain) with <c>rds</c> replaced by its route configuration.</summary>
    private static ConfigNode InlineRoutes(ConfigNode listener, IReadOnlyDictionary<string, ConfigNode> routes, ref int order)
    {
        if (listener is not ConfigMap l) return listener;
        var entries = ImmutableArray.CreateBuilder<KeyValuePair<string, ConfigNode>>(l.Entries.Length);
        foreach (KeyValuePair<string, ConfigNode> e in l.Entries)
        {
            ConfigNode value = e.Value;
            if (e.Key == "filter_chains" && value is ConfigList chains)
            {
                var items = ImmutableArray.CreateBuilder<ConfigNode>(chains.Items.Length);
                foreach (ConfigNode chain in chains.Items) items.Add(InlineChainRoutes(chain, routes, ref order));
                value = new ConfigList(chains.Path, items.MoveToImmutable(), chains.Order, chains.Line);
            }
            else if (e.Key == "default_filter_chain")
            {
                value = InlineChainRoutes(value, routes, ref order);
            }
            entries.Add(new(e.Key, value));
        }
        return new ConfigMap(l.Path, entries.MoveToImmutable(), l.Order, l.Line);
    }

    private static ConfigNode InlineChainRoutes(ConfigNode chain, IReadOnlyDictionary<string, ConfigNode> routes, ref int order)
    {
        if (chain is not ConfigMap c || c.Get("filters") is not ConfigList filters) return chain;
        var items = ImmutableArray.CreateBuilder<ConfigNode>(filters.Items.Length);
        foreach (ConfigNode filter in filters.Items)
        {
            if (filter is ConfigMap f && f.Get("typed_config") is ConfigMap tc && tc.Get("rds") is ConfigMap rds
                && rds.Get("route_config_name") is ConfigScalar { Kind: ScalarKind.String } routeName)
            {
                string name = routeName.Text;
                ConfigNode route = routes.TryGetValue(name, out ConfigNode? r)
                    ? r.Rebase($"route \"{name}\"", ref order)
                    // Warming timed out without this route configuration: Envoy serves the listener with none (404 NR).
                    : new ConfigMap($"route \"{name}\"", [new("name", new ConfigScalar($"route \"{name}\".name", name, ScalarKind.String, order++))], order++);
                ConfigMap newTc = Replace(tc, "rds", "route_config", route);
                items.Add(Replace(f, "typed_config", "typed_config", newTc));
            }
            else
            {
                items.Add(filter);
            }
        }
        return Replace(c, "filters", "filters", new ConfigList(filters.Path, items.MoveToImmutable(), filters.Order, filters.Line));
    }

    /// <summary>An EDS cluster as a STATIC one whose load_assignment is the ClusterLoadAssignment it names.</summary>
    private static ConfigNode InlineEndpoints(ConfigNode cluster, string clusterName, IReadOnlyDictionary<string, ConfigNode> endpoints, ref int order)
    {
        if (EdsServiceName(cluster, clusterName) is not string service) return cluster;
        ConfigNode assignment = endpoints.TryGetValue(service, out ConfigNode? cla)
            ? cla.Rebase(EndpointsPath(service), ref order)
            // Not received (warming timed out): a cluster with no hosts, as Envoy has (503 UH).
            : NoEndpoints(service, ref order);
        return AsStatic((ConfigMap)cluster, assignment);
    }

    /// <summary>
    /// The EDS cluster alone as the STATIC cluster it becomes, with an empty <c>load_assignment</c>: xDS translates a
    /// cluster once per version of the cluster and joins it with the endpoints translated on their own
    /// (<c>LoadAssignmentTranslator.TranslateResource</c>), so an EDS push does not translate the cluster again.
    /// Null when <paramref name="cluster"/> is not of type EDS (it is translated as it is).
    /// </summary>
    public static ConfigNode? EdsClusterWithoutEndpoints(ConfigNode cluster, string clusterName, out string service)
    {
        service = "";
        if (EdsServiceName(cluster, clusterName) is not string s) return null;
        service = s;
        int order = int.MaxValue / 2; // after every node of the cluster: its own errors come first, as when inlined
        return AsStatic((ConfigMap)cluster, NoEndpoints(s, ref order));
    }

    /// <summary>The path endpoints of EDS resource <paramref name="service"/> are reported under.</summary>
    public static string EndpointsPath(string service) => $"endpoints \"{service}\"";

    /// <summary>The ClusterLoadAssignment name an EDS cluster reads (<c>eds_cluster_config.service_name</c>, else its own name); null for other types.</summary>
    private static string? EdsServiceName(ConfigNode cluster, string clusterName) =>
        cluster is ConfigMap c && c.Get("type") is ConfigScalar { Text: "EDS" }
            ? (c.Get("eds_cluster_config") as ConfigMap)?.Get("service_name") is ConfigScalar { Text.Length: > 0 } s ? s.Text : clusterName
            : null;

    private static ConfigMap NoEndpoints(string service, ref int order) =>
        new(EndpointsPath(service), [new("cluster_name", new ConfigScalar(EndpointsPath(service) + ".cluster_name", service, ScalarKind.String, order++))], order++);

    private static ConfigMap AsStatic(ConfigMap c, ConfigNode assignment)
    {
        var entries = ImmutableArray.CreateBuilder<KeyValuePair<string, ConfigNode>>(c.Entries.Length + 1);
        foreach (KeyValuePair<string, ConfigNode> e in c.Entries)
        {
            if (e.Key == "eds_cluster_config") continue;
            entries.Add(e.Key == "type" && e.Value is ConfigScalar type ? new(e.Key, new ConfigScalar(type.Path, "STATIC", ScalarKind.String, type.Order, type.Line)) : e);
        }
        entries.Add(new("load_assignment", assignment));
        return new ConfigMap(c.Path, entries.ToImmutable(), c.Order, c.Line);
    }

    private static ConfigMap Replace(ConfigMap map, string key, string newKey, ConfigNode value)
    {
        var entries = ImmutableArray.CreateBuilder<KeyValuePair<string, ConfigNode>>(map.Entries.Length);
        foreach (KeyValuePair<string, ConfigNode> e in map.Entries) entries.Add(e.Key == key ? new(newKey, value) : e);
        return new ConfigMap(map.Path, entries.MoveToImmutable(), map.Order, map.Line);
    }
}
