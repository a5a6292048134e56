using System.Collections.Immutable;
using Sidecar.Core.Balancing;
using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Routing;

/// <summary>
/// Picks the upstream cluster of a route action. For weighted_clusters this is Envoy's algorithm:
/// draw r in [0, sum of weights) and walk the cumulative weights in config order; weight-0 clusters
/// are never chosen. Works on the model array directly (a handful of entries), so nothing is cached
/// per route and nothing is allocated.
/// </summary>
public sealed class WeightedClusterPicker
{
    private readonly IRandomSource _random;

    public WeightedClusterPicker(IRandomSource? random = null) => _random = random ?? SharedRandomSource.Instance;

    public static WeightedClusterPicker Shared { get; } = new();

    /// <summary>The action's single cluster, or one of its weighted clusters; "" if there is none.</summary>
    public string Pick(RouteActionModel action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return action.Cluster.Length != 0 ? action.Cluster : Pick(action.WeightedClusters);
    }

    public string Pick(ImmutableArray<WeightedClusterModel> clusters)
    {
        long total = TotalWeight(clusters);
        return total <= 0 ? "" : Pick(clusters, (ulong)NextBelow(total));
    }

    /// <summary>Deterministic form: <paramref name="randomValue"/> is reduced modulo the total weight.</summary>
    public static string Pick(ImmutableArray<WeightedClusterModel> clusters, ulong randomValue)
    {
        long total = TotalWeight(clusters);
        if (total <= 0)
        {
            return "";
        }

        long selected = (long)(randomValue % (ulong)total);
        long end = 0;
        foreach (WeightedClusterModel cluster in clusters)
        {
            end += Math.Max(cluster.Weight, 0);
            if (selected < end)
            {
                return cluster.Name;
            }
        }

        return "";
    }

    private static long TotalWeight(ImmutableArray<WeightedClusterModel> clusters)
    {
        long total = 0;
        foreach (WeightedClusterModel cluster in clusters)
        {
            total += Math.Max(cluster.Weight, 0);
        }

        return total;
    }

    private long NextBelow(long total) =>
        total <= int.MaxValue ? _random.Next((int)total) : (long)(_random.NextDouble() * total);
}
