using System.Collections.Immutable;
using System.Net;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Proxy;
using Sidecar.Core.Telemetry;
using Xunit;

namespace Sidecar.Core.Tests.Proxy;

/// <summary>
/// SnapshotBuilder builds each version from the previous one (copied maps changed where the version differs): what is
/// carried, created, dropped and left pending must be exactly the change, and the serving snapshot must not move.
/// </summary>
public sealed class SnapshotBuilderTests
{
    private readonly StatsStore _stats = new();

    private static ClusterModel Cluster(string name, int port, string definition = "d") => new()
    {
        Name = name,
        Type = DiscoveryType.Static,
        Definition = definition + name,
        Localities = [new LocalityEndpointsModel { Endpoints = [new EndpointModel { Host = "127.0.0.1", Port = port, Address = IPAddress.Loopback }] }],
    };

    private static BootstrapModel Model(params ClusterModel[] clusters)
    {
        var map = new Dictionary<string, ClusterModel>(StringComparer.Ordinal);
        foreach (ClusterModel c in clusters) map[c.Name] = c;
        return new BootstrapModel { Admin = null, Listeners = [], Clusters = new NameDictionary<ClusterModel>(map) };
    }

    private static int Port(ProxySnapshot s, string cluster) => s.Clusters[cluster].State.Endpoints.Endpoints[0].Source!.Port;

    [Fact]
    public void OnlyTheChangeIsCreatedOrDroppedAndTheServingSnapshotKeepsItsMaps()
    {
        ClusterModel a = Cluster("a", 1), b = Cluster("b", 2), c = Cluster("c", 3);
        ProxySnapshot first = SnapshotBuilder.Build(Model(a, b, c), _stats);
        Assert.Equal(["a", "b", "c"], first.FreshClusters.Order());
        Assert.Empty(first.Dropped);

        // b redefined (new runtime), c removed, d added, a the same instance (carried, nothing compared).
        ClusterModel b2 = Cluster("b", 2, definition: "other"), d = Cluster("d", 4);
        ProxySnapshot second = SnapshotBuilder.Build(Model(a, b2, d), _stats, previous: first);
        Assert.Equal(["b", "d"], second.FreshClusters.Order());
        Assert.Same(first.Clusters["a"], second.Clusters["a"]);
        Assert.Same(first.ClusterManager.Clusters["a"], second.ClusterManager.Clusters["a"]);
        Assert.NotSame(first.Clusters["b"], second.Clusters["b"]);
        Assert.Equal([first.Clusters["b"], first.Clusters["c"]], second.Dropped.OrderBy(r => r.Model.Name));
        Assert.False(second.Clusters.ContainsKey("c"));
        Assert.False(second.ClusterManager.Clusters.ContainsKey("c"));
        Assert.Equal(3, second.ClusterManager.Clusters.Count);
        Assert.Empty(second.PendingEndpointUpdates);
        Assert.Equal(first.Generation, second.BuiltOn);

        // The serving snapshot's maps were copied, not written.
        Assert.Equal(["a", "b", "c"], first.Clusters.Keys.Order());
        Assert.Same(b, first.Clusters["b"].Model);
        Assert.Equal(3, first.ClusterManager.Clusters.Count);
        first.Retire(second); // closes b and c; a goes with second
        second.Dispose();
    }

    [Fact]
    public void CarriedEndpointChangesWaitForTheCommitAndLaterVersionsCompareAgainstThem()
    {
        ClusterModel a = Cluster("a", 1);
        ProxySnapshot first = SnapshotBuilder.Build(Model(a), _stats);

        // Same definition, other endpoints (an EDS push): carried over, the change pending until publish.
        ClusterModel moved = a.WithLocalities(Cluster("a", 2).Localities);
        ProxySnapshot refused = SnapshotBuilder.Build(Model(moved), _stats, previous: first);
        Assert.Empty(refused.FreshClusters);
        Assert.Same(first.Clusters["a"], refused.Clusters["a"]);
        Assert.Single(refused.PendingEndpointUpdates);
        Assert.Equal(1, Port(first, "a"));
        refused.DiscardFresh();

        ProxySnapshot published = SnapshotBuilder.Build(Model(moved), _stats, previous: first);
        SnapshotBuilder.CommitEndpoints(published);
        first.Retire(published);
        Assert.Equal(2, Port(published, "a"));

        // The next version has the same endpoints in another instance: compared with the committed ones, nothing pends.
        ClusterModel again = a.WithLocalities(Cluster("a", 2).Localities);
        ProxySnapshot third = SnapshotBuilder.Build(Model(again), _stats, previous: published);
        Assert.Empty(third.PendingEndpointUpdates);
        // Back to the first endpoints: that is a change again.
        ProxySnapshot fourth = SnapshotBuilder.Build(Model(a.WithLocalities(Cluster("a", 1).Localities)), _stats, previous: third);
        Assert.Single(fourth.PendingEndpointUpdates);
        SnapshotBuilder.CommitEndpoints(fourth);
        Assert.Equal(1, Port(fourth, "a"));
        fourth.Dispose(); // the one runtime all these versions carried
    }

    [Fact]
    public void ASnapshotNotBuiltFromTheRetiringOneClosesByComparison()
    {
        ClusterModel a = Cluster("a", 1), b = Cluster("b", 2);
        ProxySnapshot first = SnapshotBuilder.Build(Model(a, b), _stats);
        ProxySnapshot unrelated = SnapshotBuilder.Build(Model(a), _stats);
        Assert.NotEqual(first.Generation, unrelated.BuiltOn);
        first.Retire(unrelated); // every runtime of first differs from unrelated's: all closed, none of unrelated's
        Assert.Equal(1, Port(unrelated, "a"));
        unrelated.Dispose();
    }
}
