using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Xds.Integration;

/// <summary>
/// Joins a version's CDS clusters with their ClusterLoadAssignments into the cluster map the bootstrap translation
/// checks references against. The whole join reads every cluster and reports every error in the composed order. A
/// version that has the serving version's names and differs only in some entries — most pushes: istiod resends 10,000
/// clusters to change a few endpoint sets — redoes only those: the serving version had no error (it was published),
/// so only a changed entry can bring one, and any changed entry that is not plainly valid (an error, a new cluster
/// name, another EDS service, a static name) sends the version through the whole join, which words the error as
/// always. The result is the same map either way.
/// Not thread-safe: the translator calls it under its lock.
/// </summary>
internal sealed class ClusterJoiner(XdsResourceCache cache, HashSet<string> staticClusterNames)
{
    /// <summary>A version's join: its entries (by index of the name order) and the map made from them.</summary>
    private sealed record Joined(string[] ClusterNames, XdsResourceEntry[] Clusters, string[] EndpointNames, XdsResourceEntry[] Endpoints,
        Dictionary<string, ClusterModel> Map, Dictionary<string, int> ClusterByService);

    private Joined? _serving;
    private Joined? _candidate;

    /// <summary>Clusters joined by the whole join / by the changed-entries join since the start (for tests and figures).</summary>
    public (long Whole, long Changed) Joins { get; private set; }

    /// <summary>
    /// The dynamic clusters by their own names; errors go to <paramref name="errors"/>. The name arrays are the
    /// translator's name orders: the serving version's own arrays when the names did not change.
    /// </summary>
    public Dictionary<string, ClusterModel> Join(IReadOnlyDictionary<string, Xds.XdsResource> assignments, string[] clusterNames, XdsResourceEntry[] clusters,
        string[] endpointNames, XdsResourceEntry[] endpoints, List<ConfigError> errors)
    {
        Dictionary<string, ClusterModel>? map = JoinChanged(assignments, clusterNames, clusters, endpointNames, endpoints);
        Dictionary<string, int> byService;
        if (map is not null)
        {
            byService = _serving!.ClusterByService;
            Joins = (Joins.Whole, Joins.Changed + 1);
        }
        else
        {
            (map, byService) = JoinAll(assignments, clusterNames, clusters, errors);
            Joins = (Joins.Whole + 1, Joins.Changed);
        }
        _candidate = new Joined(clusterNames, clusters, endpointNames, endpoints, map, byService);
        return map;
    }

    /// <summary>The version last joined is now serving.</summary>
    public void Published() => _serving = _candidate;

    private (Dictionary<string, ClusterModel> Map, Dictionary<string, int> ClusterByService) JoinAll(IReadOnlyDictionary<string, Xds.XdsResource> assignments,
        string[] names, XdsResourceEntry[] clusters, List<ConfigError> errors)
    {
        var map = new Dictionary<string, ClusterModel>(names.Length, StringComparer.Ordinal);
        var byService = new Dictionary<string, int>(names.Length, StringComparer.Ordinal);
        for (int i = 0; i < clusters.Length; i++)
        {
            string name = names[i];
            XdsResourceEntry c = clusters[i];
            if (c.Cluster is { } m && staticClusterNames.Contains(m.Name)) errors.Add(new ConfigError($"cluster \"{name}\"", $"duplicate cluster name \"{m.Name}\""));
            if (!c.Errors.IsEmpty) errors.AddRange(c.Errors);
            XdsResourceEntry? assignment = Assignment(assignments, c);
            if (assignment is not null && !assignment.Errors.IsEmpty) errors.AddRange(assignment.Errors);
            // One service read by two clusters: an endpoint change there goes through the whole join (-1).
            if (c.EdsService is string service && !byService.TryAdd(service, i)) byService[service] = -1;
            if (c.Cluster is null) continue;
            // The resource name and the cluster's own name can differ; two resources naming one cluster is refused as in a file.
            if (!map.TryAdd(c.Cluster.Name, c.EdsService is null ? c.Cluster : cache.Join(name, c, assignment)))
            {
                errors.Add(new ConfigError($"cluster \"{name}\"", $"duplicate cluster name \"{c.Cluster.Name}\""));
            }
        }
        return (map, byService);
    }

    /// <summary>The serving map copied with the changed clusters joined again; null when the whole join must run.</summary>
    private Dictionary<string, ClusterModel>? JoinChanged(IReadOnlyDictionary<string, Xds.XdsResource> assignments, string[] clusterNames,
        XdsResourceEntry[] clusters, string[] endpointNames, XdsResourceEntry[] endpoints)
    {
        Joined? serving = _serving;
        if (serving is null || !ReferenceEquals(clusterNames, serving.ClusterNames) || !ReferenceEquals(endpointNames, serving.EndpointNames)) return null;
        var changed = new List<int>();
        for (int i = 0; i < clusters.Length; i++)
        {
            if (!ReferenceEquals(clusters[i], serving.Clusters[i])) changed.Add(i);
        }
        for (int j = 0; j < endpoints.Length; j++)
        {
            if (ReferenceEquals(endpoints[j], serving.Endpoints[j]) || !serving.ClusterByService.TryGetValue(endpointNames[j], out int reader)) continue;
            if (reader < 0) return null;
            changed.Add(reader);
        }
        // Past half of the clusters the copy and the checks cost more than the whole join.
        if (changed.Count > clusters.Length / 2) return null;
        var map = new Dictionary<string, ClusterModel>(serving.Map, StringComparer.Ordinal);
        foreach (int i in changed)
        {
            XdsResourceEntry c = clusters[i];
            XdsResourceEntry was = serving.Clusters[i];
            if (c.Cluster is null || !c.Errors.IsEmpty || c.EdsService != was.EdsService || c.Cluster.Name != was.Cluster?.Name
                || staticClusterNames.Contains(c.Cluster.Name))
            {
                return null;
            }
            XdsResourceEntry? assignment = Assignment(assignments, c);
            if (assignment is not null && !assignment.Errors.IsEmpty) return null;
            map[c.Cluster.Name] = c.EdsService is null ? c.Cluster : cache.Join(clusterNames[i], c, assignment);
        }
        return map;
    }

    /// <summary>The cluster's ClusterLoadAssignment in this set (the translator's Entries put it in the cache), if any.</summary>
    private XdsResourceEntry? Assignment(IReadOnlyDictionary<string, Xds.XdsResource> assignments, XdsResourceEntry cluster) =>
        cluster.EdsService is string service && assignments.ContainsKey(service) ? cache.Latest(XdsTypeUrls.ClusterLoadAssignment, service) : null;
}
