using Sidecar.Core.Config.Model;
using Sidecar.Core.Protobuf;
using Sidecar.Core.Xds;
using Sidecar.Core.Xds.Integration;
using Xunit;
using static Sidecar.Core.Tests.Xds.EdsTestResources;

namespace Sidecar.Core.Tests.Xds;

/// <summary>
/// A push that keeps the serving version's names joins only its changed clusters (ClusterJoiner). The proof that this
/// is not a second semantic path: for each version, a translator that saw the earlier ones and a fresh one (whole
/// join) give equal models, or the identical NACK text.
/// </summary>
public sealed class XdsIncrementalJoinTests
{
    private const int Count = 40;

    private static byte[] Assignment(string name, int port)
    {
        var w = new ProtoWriter();
        w.WriteString(1, name);
        int locality = w.BeginMessage(2);
        int lb = w.BeginMessage(2);
        Endpoint(w, "10.0.0.1", port);
        w.EndMessage(lb);
        w.EndMessage(locality);
        return w.ToArray();
    }

    private static string Name(int i) => $"outbound|80||svc{i}.ns.svc.cluster.local";

    private readonly Dictionary<string, XdsResource> _clusters = [];
    private readonly Dictionary<string, XdsResource> _endpoints = [];

    public XdsIncrementalJoinTests()
    {
        for (int i = 0; i < Count; i++)
        {
            _clusters[Name(i)] = new(XdsTypeUrls.Cluster, Name(i), "1", XdsTestResources.Cluster(Name(i), serviceName: Name(i)));
            _endpoints[Name(i)] = new(XdsTypeUrls.ClusterLoadAssignment, Name(i), "1", Assignment(Name(i), 80));
        }
    }

    private XdsResourceSet Set() => new()
    {
        Listeners = new Dictionary<string, XdsResource>(),
        Routes = new Dictionary<string, XdsResource>(),
        Clusters = new Dictionary<string, XdsResource>(_clusters),
        Endpoints = new Dictionary<string, XdsResource>(_endpoints),
    };

    /// <summary>Publishes the current set on <paramref name="warm"/> and on a fresh translator: same outcome, same models.</summary>
    private static string? PublishBoth(XdsConfigTranslator warm, Func<BootstrapModel?> warmModel, XdsResourceSet set)
    {
        BootstrapModel? fresh = null;
        string? wholeError = new XdsConfigTranslator(null, m => { fresh = m; return null; }).Publish(set);
        string? error = warm.Publish(set);
        Assert.Equal(wholeError, error);
        if (error is null)
        {
            BootstrapModel model = warmModel()!;
            Assert.Equal(fresh!.Clusters.Keys.Order(), model.Clusters.Keys.Order());
            foreach ((string name, ClusterModel c) in fresh.Clusters) ModelAssert.Equal(c, model.Clusters[name], name);
        }
        return error;
    }

    [Fact]
    public void ChangedClustersAloneGiveTheWholeJoinsModelsAndErrors()
    {
        BootstrapModel? applied = null;
        var translator = new XdsConfigTranslator(null, m => { applied = m; return null; });
        Assert.Null(PublishBoth(translator, () => applied, Set()));
        Assert.Equal((1L, 0L), translator.ClusterJoins);
        BootstrapModel first = applied!;

        // Two endpoint sets changed: only those clusters are joined again; the others keep their instances.
        _endpoints[Name(3)] = new(XdsTypeUrls.ClusterLoadAssignment, Name(3), "2", Assignment(Name(3), 81));
        _endpoints[Name(30)] = new(XdsTypeUrls.ClusterLoadAssignment, Name(30), "2", Assignment(Name(30), 82));
        Assert.Null(PublishBoth(translator, () => applied, Set()));
        Assert.Equal((1L, 1L), translator.ClusterJoins);
        Assert.Equal(81, applied!.Clusters[Name(3)].Localities[0].Endpoints[0].Port);
        Assert.Same(first.Clusters[Name(4)], applied.Clusters[Name(4)]);

        // A changed cluster with an error (STATIC without load_assignment): the whole join words the NACK.
        XdsResource good = _clusters[Name(5)];
        _clusters[Name(5)] = new(XdsTypeUrls.Cluster, Name(5), "2", XdsTestResources.Cluster(Name(5), eds: false));
        Assert.Contains("load_assignment is required", PublishBoth(translator, () => applied, Set()), StringComparison.Ordinal);
        Assert.Equal((2L, 1L), translator.ClusterJoins);

        // A changed cluster that takes another's name: refused as a duplicate, as the whole join says it.
        _clusters[Name(5)] = new(XdsTypeUrls.Cluster, Name(5), "3", XdsTestResources.Cluster(Name(6), serviceName: Name(5)));
        Assert.Contains("duplicate cluster name", PublishBoth(translator, () => applied, Set()), StringComparison.Ordinal);

        // A changed cluster reading another service: the whole join again, and a valid version.
        _clusters[Name(5)] = new(XdsTypeUrls.Cluster, Name(5), "4", XdsTestResources.Cluster(Name(5), serviceName: Name(7)));
        Assert.Null(PublishBoth(translator, () => applied, Set()));
        Assert.Equal(80, applied!.Clusters[Name(5)].Localities[0].Endpoints[0].Port);
        (long whole, long changed) = translator.ClusterJoins;

        // Service 7 is now read by two clusters: a change of its endpoints takes the whole join (both are joined again).
        _endpoints[Name(7)] = new(XdsTypeUrls.ClusterLoadAssignment, Name(7), "2", Assignment(Name(7), 83));
        Assert.Null(PublishBoth(translator, () => applied, Set()));
        Assert.Equal((whole + 1, changed), translator.ClusterJoins);
        Assert.Equal(83, applied!.Clusters[Name(5)].Localities[0].Endpoints[0].Port);

        // Back to the first cluster (the refused versions left the serving join as it was), then one endpoint set more.
        _clusters[Name(5)] = good;
        Assert.Null(PublishBoth(translator, () => applied, Set()));
        _endpoints[Name(8)] = new(XdsTypeUrls.ClusterLoadAssignment, Name(8), "2", Assignment(Name(8), 84));
        Assert.Null(PublishBoth(translator, () => applied, Set()));
        Assert.Equal((whole + 2, changed + 1), translator.ClusterJoins);
        Assert.Equal(84, applied!.Clusters[Name(8)].Localities[0].Endpoints[0].Port);
        Assert.Equal(80, applied.Clusters[Name(5)].Localities[0].Endpoints[0].Port);
    }
}
