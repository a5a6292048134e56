using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Sidecar.Core.Grpc;
using Sidecar.Core.Telemetry;
using Sidecar.Core.Xds;
using Xunit;
using static Sidecar.Core.Tests.Xds.FakeIstiod;

namespace Sidecar.Core.Tests.Xds;

/// <summary>
/// The whole client (gRPC transport, session, store, loop) against the fake istiod serving resources from the
/// real config dumps: request sequences for Delta and SotW, ACK/NACK, reconnect, warming, bad input.
/// </summary>
public sealed class XdsClientFakeIstiodTests : IAsyncLifetime
{
    private const string Reviews = "outbound|9080||reviews.default.svc.cluster.local";
    private const string Httpbin = "inbound-vip|8000|http|httpbin.default.svc.cluster.local";
    private const string HttpbinEndpointsInDump = "inbound-vip|8100|http|httpbin.default.svc.cluster.local";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private readonly RecordingTranslator _translator = new();
    private readonly StatsStore _stats = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly string _tokenFile = Path.GetTempFileName();
    private FakeIstiod _fake = null!;
    private XdsClient? _client;
    private Task? _run;

    public async Task InitializeAsync()
    {
        File.WriteAllText(_tokenFile, "test-token\n");
        _fake = await FakeIstiod.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null) await _run.WaitAsync(TimeSpan.FromSeconds(10));
        await _fake.DisposeAsync();
        File.Delete(_tokenFile);
    }

    [Fact]
    public async Task DeltaFirstRequestsAcksAndWarmedPublish()
    {
        await PutMeshAsync(withRoutes: true);
        StartClient(XdsProtocol.Delta);
        XdsResourceSet set = await WaitForPublishAsync(1);

        Assert.Equal(["0.0.0.0_9080", "virtualInbound", "virtualOutbound"], set.Listeners.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["9080"], set.Routes.Keys);
        Assert.Equal([Httpbin, Reviews], set.Clusters.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([Httpbin, Reviews], set.Endpoints.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(set.MissingRoutes);

        JsonElement stream = Assert.Single(_fake.Events("stream"));
        Assert.Equal("delta", Str(stream, "protocol"));
        Assert.Equal("Bearer test-token", Str(stream, "authorization"));
        Assert.Equal("Kubernetes", Str(stream, "clusterId"));

        var requests = _fake.Requests();
        Assert.Equal("CDS", Str(requests[0], "type"));
        Assert.Equal("LDS", Str(requests[1], "type"));
        Assert.True(requests[0].TryGetProperty("node", out JsonElement node));
        Assert.Equal("sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local", Str(node, "id"));
        Assert.Single(requests, r => r.TryGetProperty("node", out _)); // set_node_on_first_message_only
        Assert.Equal("app.ns", Str(node, "cluster"));
        Assert.Equal("sidecar", Str(node, "user_agent_name"));
        Assert.Equal(("r", "z"), (Str(node.GetProperty("locality"), "region"), Str(node.GetProperty("locality"), "zone")));
        Assert.Equal(NodeIdentityGoldenTests.Canonical(XdsTestResources.Node().Metadata),
            NodeIdentityGoldenTests.Canonical(JsonNode.Parse(node.GetProperty("metadata").GetRawText())));
        Assert.Empty(Strings(requests[0], "subscribe")); // legacy wildcard
        Assert.Equal([Httpbin, Reviews], Strings(requests.Single(r => Str(r, "type") == "EDS" && Str(r, "nonce") == ""), "subscribe").Order(StringComparer.Ordinal));
        Assert.Equal(["9080"], Strings(requests.Single(r => Str(r, "type") == "RDS" && Str(r, "nonce") == ""), "subscribe"));

        // Every response was ACKed: a request with its nonce and no error_detail.
        await WaitForAcksAsync();
        Assert.Equal(1, _stats.Counter("xds.publish").Value);
        Assert.Equal(1, _stats.Gauge("control_plane.connected_state").Value);
    }

    [Fact]
    public async Task WarmingHoldsThePublishUntilRoutesArrive()
    {
        await PutMeshAsync(withRoutes: false);
        StartClient(XdsProtocol.Delta);
        await _fake.WaitForAsync(e => Is(e, "request") && Str(e, "type") == "RDS", 0, Wait, "RDS subscription");
        await WaitForAcksAsync();
        await Task.Delay(300);
        Assert.Empty(_translator.Published); // CDS, EDS and LDS are in, RDS "9080" is not

        await PutRouteAsync();
        await _fake.PushAsync("RDS");
        XdsResourceSet set = await WaitForPublishAsync(1);
        Assert.Equal(["9080"], set.Routes.Keys);
    }

    [Fact]
    public async Task DeltaNackCarriesTheNonceAndReasonAndKeepsTheLastGoodSet()
    {
        await PutMeshAsync(withRoutes: true);
        StartClient(XdsProtocol.Delta);
        XdsResourceSet good = await WaitForPublishAsync(1);
        await WaitForAcksAsync();

        _translator.RejectNames.Add("virtualInbound");
        await _fake.PutAsync("LDS", "virtualInbound");
        string nonce = (await _fake.PushAsync("LDS")).GetProperty("nonces")[0].GetString()!;
        JsonElement nack = await _fake.WaitForAsync(e => Is(e, "request") && Str(e, "nonce") == nonce, 0, Wait, "NACK");
        JsonElement error = nack.GetProperty("error");
        Assert.Equal(13, error.GetProperty("code").GetInt32());
        Assert.Equal("LDS 'virtualInbound': test translator refuses 'virtualInbound'", error.GetProperty("message").GetString());
        Assert.Same(good, _client!.LastPublished);
        Assert.Equal(1, _stats.Counter("listener_manager.lds.update_rejected").Value);
        Assert.Single(_fake.Events("stream")); // the stream stays up
    }

    [Fact]
    public async Task DeltaReconnectSendsInitialResourceVersions()
    {
        await PutMeshAsync(withRoutes: true);
        StartClient(XdsProtocol.Delta);
        XdsResourceSet good = await WaitForPublishAsync(1);
        await WaitForAcksAsync();

        int mark = _fake.Mark;
        await _fake.CommandAsync(new JsonObject { ["cmd"] = "disconnect" });
        JsonElement stream2 = await _fake.WaitForAsync(e => Is(e, "stream"), mark, Wait, "second stream");
        int id = stream2.GetProperty("stream").GetInt32();
        await _fake.WaitForAsync(e => Is(e, "request") && e.GetProperty("stream").GetInt32() == id && Str(e, "type") == "RDS", mark, Wait, "RDS on the new stream");
        Assert.Same(good, _client!.LastPublished); // kept while reconnecting

        var requests = _fake.Requests(id);
        JsonElement cds = requests.First(r => Str(r, "type") == "CDS");
        Assert.True(cds.TryGetProperty("node", out _));
        var versions = cds.GetProperty("initial_versions");
        Assert.Equal(good.Clusters[Reviews].Version, versions.GetProperty(Reviews).GetString());
        Assert.Equal(good.Clusters[Httpbin].Version, versions.GetProperty(Httpbin).GetString());
        JsonElement eds = requests.First(r => Str(r, "type") == "EDS");
        Assert.Equal([Httpbin, Reviews], Strings(eds, "subscribe").Order(StringComparer.Ordinal));
        Assert.Equal(good.Endpoints[Reviews].Version, eds.GetProperty("initial_versions").GetProperty(Reviews).GetString());

        // istiod had nothing newer: the new stream's CDS response names nothing, and the client is still in sync.
        JsonElement cdsResponse = await _fake.WaitForAsync(e => Is(e, "response") && e.GetProperty("stream").GetInt32() == id && Str(e, "type") == "CDS", mark, Wait, "CDS response");
        Assert.Empty(Strings(cdsResponse, "names"));
        Assert.True(_stats.Counter("cluster_manager.cds.update_failure").Value >= 1);
    }

    [Fact]
    public async Task SotwAcksEchoVersionAndNonceAndReconnectSendsVersions()
    {
        await PutMeshAsync(withRoutes: true);
        StartClient(XdsProtocol.StateOfTheWorld);
        await WaitForPublishAsync(1);
        await WaitForAcksAsync();

        var requests = _fake.Requests();
        Assert.Equal(("CDS", "", ""), (Str(requests[0], "type"), Str(requests[0], "version"), Str(requests[0], "nonce")));
        Assert.Empty(Strings(requests[0], "names"));
        foreach (JsonElement response in _fake.Events("response"))
        {
            JsonElement ack = requests.First(r => Str(r, "nonce") == Str(response, "nonce"));
            Assert.Equal(Str(response, "version"), Str(ack, "version"));
            Assert.False(ack.TryGetProperty("error", out _));
        }

        string cdsVersion = Str(_fake.Events("response").Last(r => Str(r, "type") == "CDS"), "version");
        int mark = _fake.Mark;
        await _fake.CommandAsync(new JsonObject { ["cmd"] = "disconnect" });
        JsonElement stream2 = await _fake.WaitForAsync(e => Is(e, "stream"), mark, Wait, "second stream");
        JsonElement first = await _fake.WaitForAsync(e => Is(e, "request") && e.GetProperty("stream").GetInt32() == stream2.GetProperty("stream").GetInt32(), mark, Wait, "first request");
        Assert.Equal(("CDS", cdsVersion, ""), (Str(first, "type"), Str(first, "version"), Str(first, "nonce")));
    }

    [Fact]
    public async Task SotwNackEchoesThePreviousVersion()
    {
        await PutMeshAsync(withRoutes: true);
        StartClient(XdsProtocol.StateOfTheWorld);
        await WaitForPublishAsync(1);
        await WaitForAcksAsync();
        string goodVersion = Str(_fake.Events("response").Last(r => Str(r, "type") == "CDS"), "version");

        _translator.RejectNames.Add(Reviews);
        await _fake.PutAsync("CDS", Reviews, Httpbin);
        JsonElement pushed = await _fake.PushAsync("CDS");
        string nonce = pushed.GetProperty("nonces")[0].GetString()!;
        JsonElement nack = await _fake.WaitForAsync(e => Is(e, "request") && Str(e, "nonce") == nonce, 0, Wait, "NACK");
        Assert.Equal(goodVersion, Str(nack, "version"));
        Assert.Contains(Reviews, nack.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GarbageResourceIsNackedCountedAndTheStreamStays()
    {
        await PutMeshAsync(withRoutes: true);
        StartClient(XdsProtocol.Delta);
        XdsResourceSet good = await WaitForPublishAsync(1);
        await WaitForAcksAsync();

        await _fake.CommandAsync(new JsonObject { ["cmd"] = "putRaw", ["type"] = "LDS", ["name"] = "junk", ["base64"] = Convert.ToBase64String([0x0A, 0xFF, 0xFF, 0x01]) });
        string nonce = (await _fake.PushAsync("LDS")).GetProperty("nonces")[0].GetString()!;
        JsonElement nack = await _fake.WaitForAsync(e => Is(e, "request") && Str(e, "nonce") == nonce, 0, Wait, "NACK");
        Assert.Contains("LDS 'junk': malformed protobuf", nack.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, _stats.Counter("xds.malformed_response").Value);
        Assert.Same(good, _client!.LastPublished);

        // Garbage as a whole response message (no nonce readable): the client restarts the stream.
        int mark = _fake.Mark;
        await _fake.CommandAsync(new JsonObject { ["cmd"] = "rawResponse", ["base64"] = Convert.ToBase64String([0x12, 0x7F, 0x00]) });
        await _fake.WaitForAsync(e => Is(e, "stream"), mark, Wait, "a new stream after an unreadable response");
        Assert.Equal(1, _stats.Counter("xds.stream_reset").Value);
        Assert.Same(good, _client.LastPublished);
    }

    [Fact]
    public async Task DisconnectMidPushReconnectsWithBackoffAndConverges()
    {
        await PutMeshAsync(withRoutes: true);
        StartClient(XdsProtocol.Delta);
        XdsResourceSet good = await WaitForPublishAsync(1);
        await WaitForAcksAsync();

        // A new cluster is pushed (CDS) and the stream is cut before its endpoints (EDS) follow.
        await _fake.PutAsync("CDS", "outbound|9080||ratings.default.svc.cluster.local", Httpbin);
        await _fake.PutAsync("EDS", "outbound|9080||ratings.default.svc.cluster.local");
        await _fake.CommandAsync(new JsonObject { ["cmd"] = "pushThenDisconnect", ["types"] = new JsonArray("CDS") });
        Assert.Same(good, _client!.LastPublished); // the new cluster is cold: nothing published, the old set serves

        // The client reconnects (after a backoff of up to 50 ms here), resubscribes and gets the endpoints.
        XdsResourceSet next = await WaitForPublishAsync(2);
        Assert.Contains("outbound|9080||ratings.default.svc.cluster.local", next.Clusters.Keys);
        Assert.Contains("outbound|9080||ratings.default.svc.cluster.local", next.Endpoints.Keys);
        Assert.Equal(2, _fake.Events("stream").Count);
        Assert.Equal(2, _stats.Counter("xds.stream_opened").Value);
        Assert.True(_stats.Counter("cluster_manager.cds.update_failure").Value >= 1);
    }

    [Fact]
    public async Task CancellationStopsTheLoopAndClosesTheStream()
    {
        await PutMeshAsync(withRoutes: true);
        StartClient(XdsProtocol.Delta);
        await WaitForPublishAsync(1);
        int mark = _fake.Mark;
        await _stop.CancelAsync();
        await _run!.WaitAsync(TimeSpan.FromSeconds(10));
        await _fake.WaitForAsync(e => Is(e, "closed"), mark, Wait, "stream closed by the client");
        Assert.Equal(0, _stats.Gauge("control_plane.connected_state").Value);
        Assert.Equal(0, _stats.Counter("cluster_manager.cds.update_failure").Value); // a stop is not a failure
        Assert.Single(_fake.Events("stream"));
    }

    private void StartClient(XdsProtocol protocol)
    {
        Assert.Equal(GrpcTargetError.None, GrpcChannelFactory.TryCreate(
            new GrpcTargetOptions($"127.0.0.1:{_fake.Port}") { Plaintext = true, TokenFile = _tokenFile, ClusterId = "Kubernetes" },
            out GrpcConnection? connection));
        var options = new XdsClientOptions
        {
            Protocol = protocol,
            BackoffBase = TimeSpan.FromMilliseconds(50),
            BackoffMax = TimeSpan.FromMilliseconds(400),
            TickInterval = TimeSpan.FromMilliseconds(100),
            TargetDescription = "fake-istiod",
        };
        _client = new XdsClient(XdsTestResources.Node(), new GrpcXdsTransport(connection!), _translator, options, _stats, NullLogger.Instance);
        _run = _client.RunAsync(_stop.Token);
    }

    /// <summary>Two EDS clusters, their endpoints, three listeners (one with RDS "9080"), all from the dumps.</summary>
    private async Task PutMeshAsync(bool withRoutes)
    {
        await _fake.PutAsync("CDS", Httpbin);
        await _fake.PutAsync("CDS", Reviews, Httpbin);
        await _fake.PutAsync("EDS", Reviews);
        await _fake.PutAsync("EDS", Httpbin, HttpbinEndpointsInDump);
        await _fake.PutAsync("LDS", "0.0.0.0_9080");
        await _fake.PutAsync("LDS", "virtualOutbound");
        await _fake.PutAsync("LDS", "virtualInbound");
        if (withRoutes) await PutRouteAsync();
    }

    private async Task PutRouteAsync()
    {
        JsonElement catalog = await _fake.CommandAsync(new JsonObject { ["cmd"] = "catalog" });
        string someRoute = catalog.GetProperty("RDS")[0].GetString()!;
        await _fake.PutAsync("RDS", "9080", someRoute);
    }

    private async Task<XdsResourceSet> WaitForPublishAsync(int count)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (_translator.Published.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no publish #{count} within {Wait}; requests: {string.Join("\n", _fake.Requests())}");
            await Task.Delay(20);
        }
        return _translator.Published[count - 1];
    }

    /// <summary>Waits until every response sent so far has been answered by a request carrying its nonce.</summary>
    private async Task WaitForAcksAsync()
    {
        foreach (JsonElement response in _fake.Events("response"))
        {
            string nonce = Str(response, "nonce");
            await _fake.WaitForAsync(e => Is(e, "request") && Str(e, "nonce") == nonce, 0, Wait, "ACK of " + nonce);
        }
    }
}
