using Sidecar.Core.Xds;
using Xunit;
using static Sidecar.Core.Tests.Xds.XdsTestResources;

namespace Sidecar.Core.Tests.Xds;

public sealed class DeltaSessionTests
{
    private readonly RecordingTranslator _translator = new();
    private readonly DeltaSession _session;

    public DeltaSessionTests() => _session = new DeltaSession(Node(), new XdsResourceStore(_translator, TimeSpan.FromSeconds(15)));

    [Fact]
    public void FirstRequestsAreLegacyWildcardWithoutVersions()
    {
        var requests = _session.StartStream();
        Assert.Equal([XdsTypeUrls.Cluster, XdsTypeUrls.Listener], requests.Select(r => r.TypeUrl));
        Assert.NotNull(requests[0].Node);
        Assert.Null(requests[1].Node);
        Assert.All(requests, r => Assert.Empty(r.Subscribe));
        Assert.All(requests, r => Assert.Empty(r.InitialResourceVersions));
    }

    [Fact]
    public void AckIsTheNonceAloneAndNewClustersSubscribeTheirEndpoints()
    {
        _session.StartStream();
        var step = _session.OnResponse(Delta(XdsTypeUrls.Cluster, "n1", [("c1", "1", Cluster("c1")), ("c2", "1", Cluster("c2", serviceName: "s2"))]), 0);
        Assert.Equal(XdsResponseOutcome.Accepted, step.Outcome);
        var ack = step.Requests[0];
        Assert.Equal((XdsTypeUrls.Cluster, "n1"), (ack.TypeUrl, ack.ResponseNonce));
        Assert.Null(ack.ErrorDetail);
        Assert.Empty(ack.Subscribe);
        var eds = Assert.Single(step.Requests, r => r.TypeUrl == XdsTypeUrls.ClusterLoadAssignment);
        Assert.Equal(["c1", "s2"], eds.Subscribe);

        // Removing a cluster unsubscribes its endpoints; changing nothing else sends nothing else.
        var removal = _session.OnResponse(Delta(XdsTypeUrls.Cluster, "n2", [], "c1"), 0);
        var unsubscribe = Assert.Single(removal.Requests, r => r.TypeUrl == XdsTypeUrls.ClusterLoadAssignment);
        Assert.Equal(["c1"], unsubscribe.Unsubscribe);
        Assert.Empty(unsubscribe.Subscribe);
    }

    [Fact]
    public void NackKeepsPerResourceVersionsAndTheLastGoodSet()
    {
        WarmUp();
        _translator.RejectNames.Add("l1");
        var step = _session.OnResponse(Delta(XdsTypeUrls.Listener, "n9", [("l1", "2", Listener("l1", "r2"))]), 0);
        Assert.Equal(XdsResponseOutcome.Rejected, step.Outcome);
        var nack = Assert.Single(step.Requests);
        Assert.Equal("n9", nack.ResponseNonce);
        Assert.Contains("LDS 'l1': test translator refuses 'l1'", nack.ErrorDetail!.Value.Message, StringComparison.Ordinal);
        Assert.Equal("1", _session.Store.Resources(XdsTypeUrls.Listener)["l1"].Version);
        Assert.Single(_translator.Published);
    }

    [Fact]
    public void ReconnectSendsInitialResourceVersions()
    {
        WarmUp();
        var requests = _session.StartStream();
        Assert.Equal([XdsTypeUrls.Cluster, XdsTypeUrls.ClusterLoadAssignment, XdsTypeUrls.Listener, XdsTypeUrls.RouteConfiguration], requests.Select(r => r.TypeUrl));
        Assert.Equal("1", requests[0].InitialResourceVersions["c1"]);
        Assert.Equal("e1", requests[1].InitialResourceVersions["c1"]);
        Assert.Equal(["c1"], requests[1].Subscribe);
        Assert.Equal("1", requests[2].InitialResourceVersions["l1"]);
        Assert.Empty(requests[2].Subscribe); // wildcard stays legacy wildcard
        Assert.Equal(["r1"], requests[3].Subscribe);
        Assert.All(requests, r => Assert.Equal("", r.ResponseNonce));
    }

    [Fact]
    public void RemovedEndpointsMakeTheSetColdAgain()
    {
        WarmUp();
        var step = _session.OnResponse(Delta(XdsTypeUrls.ClusterLoadAssignment, "n7", [], "c1"), 0);
        Assert.Equal(XdsResponseOutcome.Accepted, step.Outcome);
        Assert.False(step.Published);
        Assert.Single(_translator.Published);
    }

    [Fact]
    public void BodyWithTheWrongTypeIsNacked()
    {
        _session.StartStream();
        var response = Delta(XdsTypeUrls.Cluster, "n1", []);
        response.Resources.Add(new Sidecar.Core.Xds.Protocol.DeltaResourceEntry("x", "1",
            new Sidecar.Core.Xds.Protocol.XdsAny(XdsTypeUrls.Listener, Listener("x"))));
        var step = _session.OnResponse(response, 0);
        Assert.Equal(XdsResponseOutcome.Rejected, step.Outcome);
        Assert.Contains("in a type.googleapis.com/envoy.config.cluster.v3.Cluster response", step.Error, StringComparison.Ordinal);
    }

    private void WarmUp()
    {
        _session.StartStream();
        _session.OnResponse(Delta(XdsTypeUrls.Cluster, "n1", [("c1", "1", Cluster("c1"))]), 0);
        _session.OnResponse(Delta(XdsTypeUrls.ClusterLoadAssignment, "n2", [("c1", "e1", Named("c1"))]), 0);
        _session.OnResponse(Delta(XdsTypeUrls.Listener, "n3", [("l1", "1", Listener("l1", "r1"))]), 0);
        var last = _session.OnResponse(Delta(XdsTypeUrls.RouteConfiguration, "n4", [("r1", "1", Named("r1"))]), 0);
        Assert.True(last.Published);
    }
}
