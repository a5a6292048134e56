using Sidecar.Core.Xds;
using Sidecar.Core.Xds.Protocol;
using Xunit;
using static Sidecar.Core.Tests.Xds.XdsTestResources;

namespace Sidecar.Core.Tests.Xds;

public sealed class SotwSessionTests
{
    private readonly RecordingTranslator _translator = new();
    private readonly SotwSession _session;

    public SotwSessionTests() => _session = new SotwSession(Node(), new XdsResourceStore(_translator, TimeSpan.FromSeconds(15)));

    [Fact]
    public void FirstRequestsAreWildcardCdsThenLdsWithTheNodeOnlyOnce()
    {
        var requests = _session.StartStream();
        Assert.Equal([XdsTypeUrls.Cluster, XdsTypeUrls.Listener], requests.Select(r => r.TypeUrl));
        Assert.NotNull(requests[0].Node);
        Assert.Null(requests[1].Node);
        Assert.All(requests, r => Assert.Empty(r.ResourceNames));
        Assert.All(requests, r => Assert.Equal("", r.ResponseNonce));
        Assert.All(requests, r => Assert.Equal("", r.VersionInfo));
    }

    [Fact]
    public void AckEchoesVersionAndNonceThenSubscribesEds()
    {
        _session.StartStream();
        var step = _session.OnResponse(Sotw(XdsTypeUrls.Cluster, "v1", "n1", Cluster("c1"), Cluster("c2", serviceName: "svc2"), Cluster("static", eds: false)), 0);
        Assert.Equal(XdsResponseOutcome.Accepted, step.Outcome);
        Assert.False(step.Published); // LDS not received yet
        var ack = step.Requests[0];
        Assert.Equal((XdsTypeUrls.Cluster, "v1", "n1"), (ack.TypeUrl, ack.VersionInfo, ack.ResponseNonce));
        Assert.Null(ack.ErrorDetail);
        var eds = Assert.Single(step.Requests, r => r.TypeUrl == XdsTypeUrls.ClusterLoadAssignment);
        Assert.Equal(["c1", "svc2"], eds.ResourceNames);
        Assert.Equal("", eds.ResponseNonce);
    }

    [Fact]
    public void NothingIsPublishedUntilEveryRouteAndEndpointArrives()
    {
        _session.StartStream();
        _session.OnResponse(Sotw(XdsTypeUrls.Cluster, "c1", "n1", Cluster("c1")), 0);
        var lds = _session.OnResponse(Sotw(XdsTypeUrls.Listener, "l1", "n2", Listener("l1", "r1"), Listener("tcp")), 0);
        Assert.False(lds.Published);
        Assert.Equal(["r1"], Assert.Single(lds.Requests, r => r.TypeUrl == XdsTypeUrls.RouteConfiguration).ResourceNames);
        var rds = _session.OnResponse(Sotw(XdsTypeUrls.RouteConfiguration, "r1", "n3", Named("r1")), 0);
        Assert.False(rds.Published); // EDS for c1 still missing
        Assert.Empty(_translator.Published);
        var eds = _session.OnResponse(Sotw(XdsTypeUrls.ClusterLoadAssignment, "e1", "n4", Named("c1")), 0);
        Assert.True(eds.Published);
        var set = Assert.Single(_translator.Published);
        Assert.Equal(["l1", "tcp"], set.Listeners.Keys.Order());
        Assert.Equal(["r1"], set.Routes.Keys);
        Assert.Equal(["c1"], set.Endpoints.Keys);
        Assert.Empty(set.MissingRoutes);
    }

    [Fact]
    public void NackCarriesThePreviousVersionTheNonceAndTheReasonAndKeepsTheLastGoodSet()
    {
        WarmUp();
        _translator.RejectNames.Add("bad");
        var step = _session.OnResponse(Sotw(XdsTypeUrls.Listener, "l2", "n9", Listener("l1", "r1"), Listener("bad")), 100);
        Assert.Equal(XdsResponseOutcome.Rejected, step.Outcome);
        var nack = Assert.Single(step.Requests);
        Assert.Equal(("l1", "n9"), (nack.VersionInfo, nack.ResponseNonce));
        Assert.NotNull(nack.ErrorDetail);
        Assert.Equal(13, nack.ErrorDetail!.Value.Code);
        Assert.Contains("LDS 'bad': test translator refuses 'bad'", nack.ErrorDetail.Value.Message, StringComparison.Ordinal);
        Assert.Single(_translator.Published);
        Assert.Equal(["l1"], _session.Store.Resources(XdsTypeUrls.Listener).Keys);
        Assert.Equal("l1", _session.AcceptedVersion(XdsTypeUrls.Listener));
    }

    [Fact]
    public void GarbageResourceIsNackedWithTheWireError()
    {
        WarmUp();
        var step = _session.OnResponse(Sotw(XdsTypeUrls.Cluster, "c2", "n9", [0x0A, 0xFF, 0xFF]), 0);
        Assert.Equal(XdsResponseOutcome.Rejected, step.Outcome);
        Assert.Contains("malformed protobuf", step.Requests[0].ErrorDetail!.Value.Message, StringComparison.Ordinal);
        Assert.Equal("c1", step.Requests[0].VersionInfo);
    }

    [Fact]
    public void UnknownTypeIsNackedAndCounted()
    {
        _session.StartStream();
        var step = _session.OnResponse(Sotw("type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig", "x", "n1", Named("ecds")), 0);
        Assert.Equal(XdsResponseOutcome.Rejected, step.Outcome);
        Assert.Contains("unsupported type_url", step.Requests[0].ErrorDetail!.Value.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnreadableEnvelopeWithoutNonceResetsTheStream()
    {
        _session.StartStream();
        var step = _session.OnResponse(new byte[] { 0x12, 0x7F, 0x01 }, 0);
        Assert.Equal(XdsResponseOutcome.ResetStream, step.Outcome);
        Assert.Empty(step.Requests);
    }

    [Fact]
    public void EnvelopeGarbageAfterTheNonceIsNacked()
    {
        _session.StartStream();
        byte[] good = EncodeSotw(Sotw(XdsTypeUrls.Cluster, "v1", "n1"));
        byte[] bytes = [.. good, 0x12, 0x7F]; // resources field claiming 127 bytes that are not there
        var step = _session.OnResponse(bytes, 0);
        Assert.Equal(XdsResponseOutcome.Rejected, step.Outcome);
        Assert.Equal("n1", step.Requests[0].ResponseNonce);
        Assert.Contains("LengthOutOfRange", step.Requests[0].ErrorDetail!.Value.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReconnectSendsAcceptedVersionsAndKnownNames()
    {
        WarmUp();
        var requests = _session.StartStream();
        Assert.Equal([XdsTypeUrls.Cluster, XdsTypeUrls.ClusterLoadAssignment, XdsTypeUrls.Listener, XdsTypeUrls.RouteConfiguration], requests.Select(r => r.TypeUrl));
        Assert.Equal(["c1", "e1", "l1", "r1"], requests.Select(r => r.VersionInfo));
        Assert.All(requests, r => Assert.Equal("", r.ResponseNonce));
        Assert.Equal(["c1"], requests[1].ResourceNames);
        Assert.Equal(["r1"], requests[3].ResourceNames);
        Assert.NotNull(requests[0].Node);
    }

    [Fact]
    public void RemovedListenerDropsItsRoutesAndUnsubscribes()
    {
        WarmUp();
        var step = _session.OnResponse(Sotw(XdsTypeUrls.Listener, "l2", "n5", Listener("tcp")), 0);
        Assert.True(step.Published);
        Assert.Empty(_translator.Last!.Routes);
        var rds = Assert.Single(step.Requests, r => r.TypeUrl == XdsTypeUrls.RouteConfiguration);
        Assert.Empty(rds.ResourceNames);
    }

    [Fact]
    public void WarmingTimeoutPublishesWithTheMissingNamesListed()
    {
        _session.StartStream();
        _session.OnResponse(Sotw(XdsTypeUrls.Cluster, "c1", "n1", Cluster("c1")), 1_000);
        _session.OnResponse(Sotw(XdsTypeUrls.Listener, "l1", "n2", Listener("l1", "r1")), 1_000);
        Assert.Equal(XdsTickResult.Nothing, _session.Tick(15_999));
        Assert.Equal(XdsTickResult.Published, _session.Tick(16_000));
        var set = Assert.Single(_translator.Published);
        Assert.Equal(["r1"], set.MissingRoutes);
        Assert.Equal(["c1"], set.MissingEndpoints);
    }

    [Fact]
    public void PublishRefusalNacksTheResponseThatCompletedWarming()
    {
        _session.StartStream();
        _session.OnResponse(Sotw(XdsTypeUrls.Cluster, "c1", "n1", Cluster("c1", eds: false)), 0);
        _translator.RejectPublish = "route r1 names cluster 'missing' that does not exist";
        var step = _session.OnResponse(Sotw(XdsTypeUrls.Listener, "l1", "n2", Listener("tcp")), 0);
        Assert.Equal(XdsResponseOutcome.Rejected, step.Outcome);
        Assert.Equal("route r1 names cluster 'missing' that does not exist", step.Requests[0].ErrorDetail!.Value.Message);
        Assert.Empty(_session.Store.Resources(XdsTypeUrls.Listener));
    }

    private void WarmUp()
    {
        _session.StartStream();
        _session.OnResponse(Sotw(XdsTypeUrls.Cluster, "c1", "n1", Cluster("c1")), 0);
        _session.OnResponse(Sotw(XdsTypeUrls.ClusterLoadAssignment, "e1", "n2", Named("c1")), 0);
        _session.OnResponse(Sotw(XdsTypeUrls.Listener, "l1", "n3", Listener("l1", "r1")), 0);
        var last = _session.OnResponse(Sotw(XdsTypeUrls.RouteConfiguration, "r1", "n4", Named("r1")), 0);
        Assert.True(last.Published);
    }
}
