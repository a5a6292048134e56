using System.Text.Json;
using Sidecar.Core.Xds;
using Sidecar.Core.Xds.Decoding;
using Sidecar.Core.Xds.Integration;
using Xunit;
using static Sidecar.Core.Tests.Xds.XdsTestResources;

namespace Sidecar.Core.Tests.Xds;

/// <summary>
/// CSDS-style status: per resource ACKED / NACKED (with the rejected update's failed_configuration, time, details and
/// version) / REQUESTED / DOES_NOT_EXIST, as the client tracks it and as /config_dump shows it; and Envoy's
/// <c>?resource=</c> / <c>?mask=</c> narrowing of the dump.
/// </summary>
public sealed class XdsStatusTests
{
    private readonly RecordingTranslator _translator = new();
    private readonly XdsResourceStore _store;
    private readonly DeltaSession _session;

    public XdsStatusTests()
    {
        _store = new XdsResourceStore(_translator, TimeSpan.FromSeconds(15));
        _session = new DeltaSession(Node(), _store);
        _session.StartStream();
    }

    [Fact]
    public void StatusFollowsAcksNacksSubscriptionsAndRemovals()
    {
        // A cluster of type EDS: its endpoints are requested, not received.
        _session.OnResponse(Delta(XdsTypeUrls.Cluster, "n1", [("c1", "1", Cluster("c1"))]), 0);
        Assert.Equal(["c1"], _store.Status.Requested(XdsTypeUrls.ClusterLoadAssignment));

        _session.OnResponse(Delta(XdsTypeUrls.ClusterLoadAssignment, "n2", [("c1", "e1", Named("c1"))]), 0);
        Assert.Empty(_store.Status.Requested(XdsTypeUrls.ClusterLoadAssignment));
        Assert.Equal(XdsClientStatus.Acked, _store.Status.StatusOfServing(XdsTypeUrls.ClusterLoadAssignment, "c1"));

        // A listener the translator refuses: NACKED with the reason and the version that was refused.
        _translator.RejectNames.Add("l1");
        var nack = _session.OnResponse(Delta(XdsTypeUrls.Listener, "n3", [("l1", "v7", Listener("l1"))]), 0);
        Assert.Equal(XdsResponseOutcome.Rejected, nack.Outcome);
        XdsUpdateFailure failure = Assert.IsType<XdsUpdateFailure>(_store.Status.FailureOf(XdsTypeUrls.Listener, "l1"));
        Assert.Equal("v7", failure.VersionInfo);
        Assert.Contains("test translator refuses 'l1'", failure.Details);
        Assert.Equal(Listener("l1"), failure.FailedConfiguration.ToArray());
        Assert.True(failure.LastUpdateAttempt > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Equal(XdsClientStatus.Nacked, _store.Status.StatusOfServing(XdsTypeUrls.Listener, "l1"));

        // Accepted later: the failure goes.
        _translator.RejectNames.Clear();
        _session.OnResponse(Delta(XdsTypeUrls.Listener, "n4", [("l1", "v8", Listener("l1"))]), 0);
        Assert.Null(_store.Status.FailureOf(XdsTypeUrls.Listener, "l1"));
        Assert.Equal(XdsClientStatus.Acked, _store.Status.StatusOfServing(XdsTypeUrls.Listener, "l1"));

        // istiod removes endpoints a cluster still names: DOES_NOT_EXIST, not REQUESTED.
        _session.OnResponse(Delta(XdsTypeUrls.ClusterLoadAssignment, "n5", [], "c1"), 0);
        Assert.Equal(["c1"], _store.Status.DoesNotExist(XdsTypeUrls.ClusterLoadAssignment));
        Assert.Empty(_store.Status.Requested(XdsTypeUrls.ClusterLoadAssignment));

        // …until it sends them again.
        _session.OnResponse(Delta(XdsTypeUrls.ClusterLoadAssignment, "n6", [("c1", "e2", Named("c1"))]), 0);
        Assert.Empty(_store.Status.DoesNotExist(XdsTypeUrls.ClusterLoadAssignment));
    }

    [Fact]
    public void DumpCarriesClientStatusAndErrorStateAndHonoursResourceAndMask()
    {
        _session.OnResponse(Delta(XdsTypeUrls.Cluster, "n1", [("c1", "1", Cluster("c1", eds: false))]), 0);
        _session.OnResponse(Delta(XdsTypeUrls.Listener, "n2", [("l1", "v1", Listener("l1", "r1"))]), 0);
        _session.OnResponse(Delta(XdsTypeUrls.RouteConfiguration, "n3", [("r1", "rv1", Named("r1"))]), 0);
        _translator.RejectNames.Add("l2");
        _session.OnResponse(Delta(XdsTypeUrls.Listener, "n4", [("l2", "v2", Listener("l2", "r2"))]), 0);
        _translator.RejectNames.Add("r1");
        _session.OnResponse(Delta(XdsTypeUrls.RouteConfiguration, "n5", [("r1", "rv2", Named("r1"))]), 0);

        // What serves: c1, l1, r1 (version rv1) — decoded as the translator would.
        var now = DateTimeOffset.UtcNow;
        var serving = new List<DecodedResource>();
        foreach ((string type, string name, string version, byte[] bytes) in new[]
        {
            (XdsTypeUrls.Cluster, "c1", "1", Cluster("c1", eds: false)),
            (XdsTypeUrls.Listener, "l1", "v1", Listener("l1", "r1")),
            (XdsTypeUrls.RouteConfiguration, "r1", "rv1", Named("r1")),
        })
        {
            XdsDecodeResult decoded = ProtoTreeDecoder.Decode(type, bytes);
            Assert.True(decoded.IsSuccess, decoded.ToString());
            serving.Add(new DecodedResource(type, name, version, bytes, now));
        }
        string dump = XdsConfigDump.Render("{}", serving, includeEds: false, _store.Status);
        using JsonDocument doc = JsonDocument.Parse(dump);
        JsonElement configs = doc.RootElement.GetProperty("configs");

        JsonElement listeners = ByType(configs, "ListenersConfigDump").GetProperty("dynamic_listeners");
        JsonElement l1 = listeners.EnumerateArray().Single(l => l.GetProperty("name").GetString() == "l1");
        Assert.Equal("ACKED", l1.GetProperty("client_status").GetString());
        Assert.False(l1.TryGetProperty("error_state", out _));
        JsonElement l2 = listeners.EnumerateArray().Single(l => l.GetProperty("name").GetString() == "l2");
        Assert.Equal("NACKED", l2.GetProperty("client_status").GetString());
        Assert.False(l2.TryGetProperty("active_state", out _)); // never served
        JsonElement error = l2.GetProperty("error_state");
        Assert.Equal("v2", error.GetProperty("version_info").GetString());
        Assert.Contains("refuses 'l2'", error.GetProperty("details").GetString());
        Assert.Equal(XdsTypeUrls.Listener, error.GetProperty("failed_configuration").GetProperty("@type").GetString());
        Assert.Equal("l2", error.GetProperty("failed_configuration").GetProperty("name").GetString());
        Assert.True(DateTimeOffset.Parse(error.GetProperty("last_update_attempt").GetString()!, System.Globalization.CultureInfo.InvariantCulture) > now.AddMinutes(-1));

        // r1 serves rv1 while its rv2 was refused: active and NACKED together; r2 (l2's route) was never requested
        // because l2 was refused, so it does not appear.
        JsonElement routes = ByType(configs, "RoutesConfigDump").GetProperty("dynamic_route_configs");
        JsonElement r1 = Assert.Single(routes.EnumerateArray());
        Assert.Equal("rv1", r1.GetProperty("version_info").GetString());
        Assert.Equal("NACKED", r1.GetProperty("client_status").GetString());
        Assert.Equal("rv2", r1.GetProperty("error_state").GetProperty("version_info").GetString());

        JsonElement c1 = Assert.Single(ByType(configs, "ClustersConfigDump").GetProperty("dynamic_active_clusters").EnumerateArray());
        Assert.Equal("ACKED", c1.GetProperty("client_status").GetString());

        // ?resource=dynamic_listeners&mask=name,client_status: one entry per listener, typed as the element, masked.
        (int status, string body) = ConfigDumpFilter.Apply(dump, "dynamic_listeners", "name,client_status");
        Assert.Equal(200, status);
        using JsonDocument filtered = JsonDocument.Parse(body);
        var entries = filtered.RootElement.GetProperty("configs").EnumerateArray().ToList();
        Assert.Equal(2, entries.Count);
        Assert.All(entries, e => Assert.Equal("type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener", e.GetProperty("@type").GetString()));
        Assert.All(entries, e => Assert.Equal(["@type", "name", "client_status"], e.EnumerateObject().Select(p => p.Name)));

        // ?mask= alone applies to each top-level dump; a nested path keeps only that branch.
        (status, body) = ConfigDumpFilter.Apply(dump, null, "dynamic_route_configs");
        Assert.Equal(200, status);
        using JsonDocument masked = JsonDocument.Parse(body);
        JsonElement routesOnly = ByType(masked.RootElement.GetProperty("configs"), "RoutesConfigDump");
        Assert.Equal(1, routesOnly.GetProperty("dynamic_route_configs").GetArrayLength());
        Assert.False(ByType(masked.RootElement.GetProperty("configs"), "ListenersConfigDump").TryGetProperty("dynamic_listeners", out _));

        Assert.Equal(404, ConfigDumpFilter.Apply(dump, "no_such_field", null).Status);
        Assert.Equal(400, ConfigDumpFilter.Apply(dump, null, ",").Status);
    }

    private static JsonElement ByType(JsonElement configs, string dumpType) =>
        configs.EnumerateArray().Single(c => c.GetProperty("@type").GetString() == "type.googleapis.com/envoy.admin.v3." + dumpType);
}
