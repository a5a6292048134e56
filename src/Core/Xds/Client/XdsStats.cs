using Sidecar.Core.Telemetry;

namespace Sidecar.Core.Xds;

/// <summary>
/// Envoy's xDS statistics: <c>control_plane.connected_state</c> (gauge, 1 while a stream is up) and, per
/// subscription, <c>update_attempt</c>, <c>update_success</c>, <c>update_rejected</c> (NACKed),
/// <c>update_failure</c> (stream failed), under Envoy's prefixes for CDS (<c>cluster_manager.cds.</c>) and
/// LDS (<c>listener_manager.lds.</c>). Envoy keeps RDS/EDS stats per route config / cluster; we aggregate
/// them under <c>xds.rds.</c> and <c>xds.eds.</c> (and SDS, per secret in Envoy, under <c>xds.sds.</c>). Ours: <c>xds.stream_opened</c>, <c>xds.stream_reset</c>,
/// <c>xds.malformed_response</c>, <c>xds.unknown_type</c>, <c>xds.publish</c>, <c>xds.warming_timeout</c>.
/// </summary>
public sealed class XdsStats
{
    private readonly Dictionary<string, SubscriptionStats> _byType = new(StringComparer.Ordinal);

    public XdsStats(StatsStore store)
    {
        ConnectedState = store.Gauge("control_plane.connected_state");
        StreamOpened = store.Counter("xds.stream_opened");
        StreamReset = store.Counter("xds.stream_reset");
        MalformedResponse = store.Counter("xds.malformed_response");
        UnknownType = store.Counter("xds.unknown_type");
        Publish = store.Counter("xds.publish");
        WarmingTimeout = store.Counter("xds.warming_timeout");
        _byType[XdsTypeUrls.Cluster] = new SubscriptionStats(store, "cluster_manager.cds.");
        _byType[XdsTypeUrls.Listener] = new SubscriptionStats(store, "listener_manager.lds.");
        _byType[XdsTypeUrls.RouteConfiguration] = new SubscriptionStats(store, "xds.rds.");
        _byType[XdsTypeUrls.ClusterLoadAssignment] = new SubscriptionStats(store, "xds.eds.");
        _byType[XdsTypeUrls.Secret] = new SubscriptionStats(store, "xds.sds.");
    }

    public Gauge ConnectedState { get; }
    public Counter StreamOpened { get; }
    public Counter StreamReset { get; }
    public Counter MalformedResponse { get; }
    public Counter UnknownType { get; }
    public Counter Publish { get; }
    public Counter WarmingTimeout { get; }

    public SubscriptionStats? For(string typeUrl) => _byType.TryGetValue(typeUrl, out var s) ? s : null;

    /// <summary>Envoy counts a failed stream as an update failure on every subscription.</summary>
    public void StreamFailed()
    {
        foreach (SubscriptionStats s in _byType.Values) s.UpdateFailure.Increment();
    }

    public sealed class SubscriptionStats(StatsStore store, string prefix)
    {
        public Counter UpdateAttempt { get; } = store.Counter(prefix + "update_attempt");
        public Counter UpdateSuccess { get; } = store.Counter(prefix + "update_success");
        public Counter UpdateRejected { get; } = store.Counter(prefix + "update_rejected");
        public Counter UpdateFailure { get; } = store.Counter(prefix + "update_failure");
    }
}
