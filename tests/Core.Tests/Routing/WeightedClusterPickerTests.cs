using System.Collections.Immutable;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Routing;
using Sidecar.Core.Tests.Support;
using Xunit;
using static Sidecar.Core.Tests.Support.RouteConfigs;

namespace Sidecar.Core.Tests.Routing;

public sealed class WeightedClusterPickerTests
{
    [Fact]
    public void Deterministic_walk_over_cumulative_weights()
    {
        ImmutableArray<WeightedClusterModel> clusters = Weighted(("a", 10), ("zero", 0), ("b", 30), ("c", 60));
        Assert.Equal("a", WeightedClusterPicker.Pick(clusters, 0));
        Assert.Equal("a", WeightedClusterPicker.Pick(clusters, 9));
        Assert.Equal("b", WeightedClusterPicker.Pick(clusters, 10));
        Assert.Equal("b", WeightedClusterPicker.Pick(clusters, 39));
        Assert.Equal("c", WeightedClusterPicker.Pick(clusters, 40));
        Assert.Equal("c", WeightedClusterPicker.Pick(clusters, 99));
        Assert.Equal("a", WeightedClusterPicker.Pick(clusters, 100));
    }

    [Fact]
    public void Distribution_follows_weights_within_tolerance()
    {
        ImmutableArray<WeightedClusterModel> clusters = Weighted(("a", 10), ("b", 30), ("c", 60));
        var picker = new WeightedClusterPicker(new SeededRandom(42));
        var counts = new Dictionary<string, int> { ["a"] = 0, ["b"] = 0, ["c"] = 0 };
        const int N = 100_000;
        for (int i = 0; i < N; i++)
        {
            counts[picker.Pick(clusters)]++;
        }

        Assert.InRange(counts["a"] / (double)N, 0.09, 0.11);
        Assert.InRange(counts["b"] / (double)N, 0.285, 0.315);
        Assert.InRange(counts["c"] / (double)N, 0.585, 0.615);
    }

    [Fact]
    public void Single_cluster_action_and_empty_cases()
    {
        var picker = new WeightedClusterPicker(new SeededRandom(1));
        Assert.Equal("one", picker.Pick(new RouteActionModel { Cluster = "one", WeightedClusters = Weighted(("x", 1)) }));
        Assert.Equal("x", picker.Pick(new RouteActionModel { WeightedClusters = Weighted(("x", 1)) }));
        Assert.Equal("", picker.Pick(Weighted(("x", 0))));
        Assert.Equal("", picker.Pick(ImmutableArray<WeightedClusterModel>.Empty));
    }
}
