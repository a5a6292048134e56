using Sidecar.Core.Protobuf;

namespace Sidecar.Core.Xds;

/// <summary>One response's changes to one resource type.</summary>
public sealed class XdsUpdate
{
    public required string TypeUrl { get; init; }
    public List<XdsResource> Upserts { get; init; } = [];
    public List<string> Removals { get; init; } = [];
    /// <summary>SotW LDS/CDS: the response is the whole set; names it lacks are deleted.</summary>
    public bool IsFullState { get; init; }
}

/// <summary>What a warming-deadline check did.</summary>
public enum XdsTickResult : byte
{
    Nothing,
    /// <summary>The cold set was published with its missing names listed.</summary>
    Published,
    /// <summary>The translator refused the cold set (<see cref="XdsResourceStore.LastTimeoutPublishError"/>).</summary>
    Refused,
}

/// <summary>What applying an update did. A rejected update changed nothing.</summary>
public readonly record struct XdsApplyResult(bool Accepted, string? Error, bool Published)
{
    public static XdsApplyResult Reject(string error) => new(false, error, false);
}

/// <summary>
/// The client's view of every resource, shared by the SotW and Delta sessions and kept across reconnects.
/// Applies one response at a time, all or nothing: each new resource is checked (decodable, accepted by the
/// translator), and when the result is warm (xDS protocol "resource warming": every listener's routes and
/// every EDS cluster's endpoints present) the whole set is handed to the translator to publish. A response
/// that leaves the set cold is accepted and held; after <see cref="WarmingTimeout"/> (Envoy's default
/// initial_fetch_timeout, 15 s) the set is published anyway, with the missing names listed.
/// Routes and endpoints that nothing references any more are dropped, as Envoy drops unsubscribed ones.
/// SDS secrets (names istiod serves over ADS, referenced by TLS transport sockets) warm listeners and clusters like
/// routes and endpoints; they are checked and served by the <see cref="IXdsSecretSink"/>, and a new version of a
/// secret already serving goes to the sink alone (new handshakes use it) without republishing the config.
/// Not thread-safe: the client loop owns it.
/// </summary>
public sealed class XdsResourceStore
{
    /// <summary>How many per-resource reasons one NACK lists before "and N more".</summary>
    private const int MaxReasonsPerNack = 5;

    private readonly IXdsResourceTranslator _translator;
    private readonly Dictionary<string, Dictionary<string, XdsResource>> _resources = new(StringComparer.Ordinal)
    {
        [XdsTypeUrls.Listener] = new(StringComparer.Ordinal),
        [XdsTypeUrls.RouteConfiguration] = new(StringComparer.Ordinal),
        [XdsTypeUrls.Cluster] = new(StringComparer.Ordinal),
        [XdsTypeUrls.ClusterLoadAssignment] = new(StringComparer.Ordinal),
        [XdsTypeUrls.Secret] = new(StringComparer.Ordinal),
    };
    private readonly IXdsSecretSink _secrets;
    private readonly TimeProvider _time;
    private readonly XdsStatusTracker _status = new();
    private volatile XdsStatusView _statusView = XdsStatusView.Empty;
    private Dictionary<string, string[]> _listenerRoutes = new(StringComparer.Ordinal);
    private Dictionary<string, string[]> _listenerSecrets = new(StringComparer.Ordinal);
    private Dictionary<string, string[]> _clusterSecrets = new(StringComparer.Ordinal);
    private Dictionary<string, string> _clusterEndpoints = new(StringComparer.Ordinal);
    private readonly HashSet<string> _received = new(StringComparer.Ordinal);
    private long _warmingDeadlineMs = -1;
    private bool _unpublishedChanges;
    private long _generation;

    /// <param name="secrets">Where SDS secrets go; without one, a secret is NACKed as not servable.</param>
    /// <param name="time">Wall clock for the status' last_update_attempt (the warming logic uses the nowMs it is given).</param>
    public XdsResourceStore(IXdsResourceTranslator translator, TimeSpan? warmingTimeout = null, IXdsSecretSink? secrets = null, TimeProvider? time = null)
    {
        _translator = translator;
        _time = time ?? TimeProvider.System;
        _secrets = secrets ?? NoSecrets.Instance;
        WarmingTimeout = warmingTimeout ?? TimeSpan.FromSeconds(15);
    }

    public TimeSpan WarmingTimeout { get; }

    /// <summary>The last set the translator accepted (null until the first publish).</summary>
    public XdsResourceSet? Published { get; private set; }

    /// <summary>Last reason a warming-timeout publish was refused (no response to NACK then).</summary>
    public string? LastTimeoutPublishError { get; private set; }

    public IReadOnlyDictionary<string, XdsResource> Resources(string typeUrl) => _resources[typeUrl];

    /// <summary>The names the client must subscribe to for RDS (from listeners) and EDS (from clusters).</summary>
    public SortedSet<string> DesiredNames(string typeUrl)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        if (typeUrl == XdsTypeUrls.RouteConfiguration)
        {
            foreach (string[] routes in _listenerRoutes.Values) names.UnionWith(routes);
        }
        else if (typeUrl == XdsTypeUrls.ClusterLoadAssignment)
        {
            names.UnionWith(_clusterEndpoints.Values);
        }
        else if (typeUrl == XdsTypeUrls.Secret)
        {
            foreach (string[] secrets in _listenerSecrets.Values) names.UnionWith(secrets);
            foreach (string[] secrets in _clusterSecrets.Values) names.UnionWith(secrets);
        }
        return names;
    }

    /// <summary>Per-resource status (CSDS ClientResourceStatus, UpdateFailureState), safe to read from any thread.</summary>
    public XdsStatusView Status => _statusView;

    public XdsApplyResult Apply(XdsUpdate update, long nowMs)
    {
        if (!XdsTypeUrls.IsKnown(update.TypeUrl)) return XdsApplyResult.Reject($"unsupported type_url {update.TypeUrl}");
        Dictionary<string, XdsResource> before = _resources[update.TypeUrl];
        XdsApplyResult result = ApplyCore(update, nowMs);
        if (result.Accepted) _status.Accepted(update, DesiredNames(update.TypeUrl));
        else _status.Rejected(update, before, result.Error ?? "rejected", _time.GetUtcNow());
        RefreshStatus();
        return result;
    }

    private void RefreshStatus() => _statusView = _status.Snapshot(t => _resources[t], DesiredNames);

    private XdsApplyResult ApplyCore(XdsUpdate update, long nowMs)
    {
        string shortName = XdsTypeUrls.ShortName(update.TypeUrl);

        // 1. Every new or changed resource alone: a name, a decodable body, accepted by the translator.
        var reasons = new List<string>();
        var listenerRoutes = update.TypeUrl == XdsTypeUrls.Listener ? new Dictionary<string, string[]>(StringComparer.Ordinal) : null;
        var clusterEndpoints = update.TypeUrl == XdsTypeUrls.Cluster ? new Dictionary<string, string?>(StringComparer.Ordinal) : null;
        var secretRefs = listenerRoutes is not null || clusterEndpoints is not null ? new Dictionary<string, string[]>(StringComparer.Ordinal) : null;
        int more = 0;
        foreach (XdsResource resource in update.Upserts)
        {
            string? reason = CheckOne(resource, listenerRoutes, clusterEndpoints, secretRefs);
            if (reason is null) continue;
            if (reasons.Count < MaxReasonsPerNack) reasons.Add($"{shortName} '{resource.Name}': {reason}");
            else more++;
        }
        if (reasons.Count > 0)
        {
            string detail = string.Join("; ", reasons) + (more > 0 ? $"; and {more} more" : "");
            return XdsApplyResult.Reject(detail);
        }

        // 2. The candidate state, built beside the current one so a rejection leaves nothing changed.
        var current = _resources[update.TypeUrl];
        var next = update.IsFullState
            ? new Dictionary<string, XdsResource>(update.Upserts.Count, StringComparer.Ordinal)
            : new Dictionary<string, XdsResource>(current, StringComparer.Ordinal);
        foreach (string name in update.Removals) next.Remove(name);
        foreach (XdsResource resource in update.Upserts) next[resource.Name] = resource;

        var nextListenerRoutes = _listenerRoutes;
        if (listenerRoutes is not null)
        {
            nextListenerRoutes = new Dictionary<string, string[]>(next.Count, StringComparer.Ordinal);
            foreach (string name in next.Keys)
            {
                if (listenerRoutes.TryGetValue(name, out string[]? routes) || _listenerRoutes.TryGetValue(name, out routes))
                    nextListenerRoutes[name] = routes;
            }
        }
        var nextListenerSecrets = listenerRoutes is not null ? NextReferences(secretRefs!, _listenerSecrets, next.Keys) : _listenerSecrets;
        var nextClusterSecrets = clusterEndpoints is not null ? NextReferences(secretRefs!, _clusterSecrets, next.Keys) : _clusterSecrets;
        var nextClusterEndpoints = _clusterEndpoints;
        if (clusterEndpoints is not null)
        {
            nextClusterEndpoints = new Dictionary<string, string>(next.Count, StringComparer.Ordinal);
            foreach (string name in next.Keys)
            {
                if (clusterEndpoints.TryGetValue(name, out string? eds))
                {
                    if (eds is not null) nextClusterEndpoints[name] = eds;
                }
                else if (_clusterEndpoints.TryGetValue(name, out string? old)) nextClusterEndpoints[name] = old;
            }
        }

        // Nothing new (e.g. istiod re-sending what initial_resource_versions already said we hold): ACK, no republish.
        if (Published is not null && !_unpublishedChanges && !Changes(current, next, update)) return new XdsApplyResult(true, null, false);

        var candidate = new Candidate(this, update.TypeUrl, next, nextListenerRoutes, nextClusterEndpoints, nextListenerSecrets, nextClusterSecrets);
        bool ldsAndCds = HasReceived(XdsTypeUrls.Listener, update.TypeUrl) && HasReceived(XdsTypeUrls.Cluster, update.TypeUrl);
        bool warm = ldsAndCds && candidate.MissingRoutes.Count == 0 && candidate.MissingEndpoints.Count == 0 && candidate.MissingSecrets.Count == 0;
        bool timedOut = ldsAndCds && _warmingDeadlineMs >= 0 && nowMs >= _warmingDeadlineMs;

        // A new version of secrets already serving, nothing else waiting: the sink swaps them for new handshakes;
        // listeners and clusters are neither translated nor bound again (a rotation, like the workload certificate's).
        if (warm && update.TypeUrl == XdsTypeUrls.Secret && Published is { } serving && !_unpublishedChanges
            && SameNames(serving.Secrets, candidate.Secrets))
        {
            XdsResourceSet rotated = candidate.ToSet(serving.Generation);
            _secrets.Apply(rotated.Secrets);
            Commit(candidate);
            Published = rotated;
            return new XdsApplyResult(true, null, false);
        }

        // 3. Warm (or warming timed out): the translator builds the snapshot or refuses the whole response.
        if (warm || timedOut)
        {
            XdsResourceSet set = candidate.ToSet(_generation + 1);
            string? error = PublishWithSecrets(set);
            if (error is not null) return XdsApplyResult.Reject(error);
            Commit(candidate);
            _received.Add(update.TypeUrl);
            _generation++;
            Published = set;
            _unpublishedChanges = false;
            _warmingDeadlineMs = -1;
            return new XdsApplyResult(true, null, true);
        }

        // 4. Cold: accept and wait for the dependent type (Envoy ACKs a warming cluster before its EDS).
        Commit(candidate);
        _received.Add(update.TypeUrl);
        _unpublishedChanges = true;
        if (ldsAndCds && _warmingDeadlineMs < 0) _warmingDeadlineMs = nowMs + (long)WarmingTimeout.TotalMilliseconds;
        return new XdsApplyResult(true, null, false);
    }

    /// <summary>Publishes a set still cold when its warming deadline passes.</summary>
    public XdsTickResult Tick(long nowMs)
    {
        XdsTickResult result = TickCore(nowMs);
        if (result != XdsTickResult.Nothing) RefreshStatus();
        return result;
    }

    private XdsTickResult TickCore(long nowMs)
    {
        if (!_unpublishedChanges || _warmingDeadlineMs < 0 || nowMs < _warmingDeadlineMs) return XdsTickResult.Nothing;
        var candidate = new Candidate(this, XdsTypeUrls.Listener, _resources[XdsTypeUrls.Listener], _listenerRoutes, _clusterEndpoints, _listenerSecrets, _clusterSecrets);
        XdsResourceSet set = candidate.ToSet(_generation + 1);
        _warmingDeadlineMs = -1;
        _unpublishedChanges = false;
        string? error = PublishWithSecrets(set);
        if (error is not null)
        {
            LastTimeoutPublishError = error;
            return XdsTickResult.Refused;
        }
        _generation++;
        Published = set;
        return XdsTickResult.Published;
    }

    /// <summary>
    /// Secrets first, so the TLS bindings of the new snapshot find them; if the translator refuses the set, the
    /// secrets of the version still serving are put back.
    /// </summary>
    private string? PublishWithSecrets(XdsResourceSet set)
    {
        _secrets.Apply(set.Secrets);
        string? error = _translator.Publish(set);
        if (error is not null) _secrets.Apply(Published?.Secrets ?? EmptySecrets);
        return error;
    }

    private static readonly Dictionary<string, XdsResource> EmptySecrets = new(StringComparer.Ordinal);

    private static bool SameNames(IReadOnlyDictionary<string, XdsResource> a, IReadOnlyDictionary<string, XdsResource> b)
    {
        if (a.Count != b.Count) return false;
        foreach (string name in a.Keys)
        {
            if (!b.ContainsKey(name)) return false;
        }
        return true;
    }

    /// <summary>The references of the resources in <paramref name="names"/>: freshly read ones, else the ones held.</summary>
    private static Dictionary<string, string[]> NextReferences(Dictionary<string, string[]> updated, Dictionary<string, string[]> current, IEnumerable<string> names)
    {
        var next = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            if (updated.TryGetValue(name, out string[]? refs) || current.TryGetValue(name, out refs))
            {
                if (refs.Length > 0) next[name] = refs;
            }
        }
        return next;
    }

    private static bool Changes(Dictionary<string, XdsResource> current, Dictionary<string, XdsResource> next, XdsUpdate update)
    {
        if (next.Count != current.Count) return true;
        foreach (XdsResource resource in update.Upserts)
        {
            if (!current.TryGetValue(resource.Name, out XdsResource? old) || old.Version != resource.Version
                || !old.Bytes.Span.SequenceEqual(resource.Bytes.Span)) return true;
        }
        return false;
    }

    private bool HasReceived(string typeUrl, string updating) => typeUrl == updating || _received.Contains(typeUrl);

    private string? CheckOne(XdsResource resource, Dictionary<string, string[]>? listenerRoutes, Dictionary<string, string?>? clusterEndpoints,
        Dictionary<string, string[]>? secretRefs)
    {
        if (resource.Name.Length == 0) return "resource has no name";
        if (resource.TypeUrl == XdsTypeUrls.Secret) return _secrets.Check(resource);
        ProtoError error = ProtoError.None;
        var secrets = new List<string>();
        if (listenerRoutes is not null)
        {
            var routes = new List<string>();
            error = ResourceDependencies.ListenerRoutes(resource.Bytes.Span, routes);
            listenerRoutes[resource.Name] = [.. routes];
            if (error == ProtoError.None) error = SecretReferences.Listener(resource.Bytes.Span, secrets);
        }
        else if (clusterEndpoints is not null)
        {
            error = ResourceDependencies.ClusterEndpoints(resource.Bytes.Span, resource.Name, out string? eds);
            clusterEndpoints[resource.Name] = eds;
            if (error == ProtoError.None) error = SecretReferences.Cluster(resource.Bytes.Span, secrets);
        }
        if (secretRefs is not null) secretRefs[resource.Name] = [.. secrets];
        if (error != ProtoError.None) return $"malformed protobuf ({error})";
        return _translator.Check(resource);
    }

    private void Commit(Candidate c)
    {
        _resources[c.TypeUrl] = c.Next;
        _listenerRoutes = c.ListenerRoutes;
        _clusterEndpoints = c.ClusterEndpoints;
        _listenerSecrets = c.ListenerSecrets;
        _clusterSecrets = c.ClusterSecrets;
        _resources[XdsTypeUrls.RouteConfiguration] = c.Routes;
        _resources[XdsTypeUrls.ClusterLoadAssignment] = c.Endpoints;
        _resources[XdsTypeUrls.Secret] = c.Secrets;
    }

    /// <summary>The state after one update, with unreferenced routes/endpoints pruned and what is missing.</summary>
    private sealed class Candidate
    {
        public Candidate(XdsResourceStore store, string typeUrl, Dictionary<string, XdsResource> next,
            Dictionary<string, string[]> listenerRoutes, Dictionary<string, string> clusterEndpoints,
            Dictionary<string, string[]> listenerSecrets, Dictionary<string, string[]> clusterSecrets)
        {
            TypeUrl = typeUrl;
            Next = next;
            ListenerRoutes = listenerRoutes;
            ClusterEndpoints = clusterEndpoints;
            ListenerSecrets = listenerSecrets;
            ClusterSecrets = clusterSecrets;
            Listeners = typeUrl == XdsTypeUrls.Listener ? next : store._resources[XdsTypeUrls.Listener];
            Clusters = typeUrl == XdsTypeUrls.Cluster ? next : store._resources[XdsTypeUrls.Cluster];
            var wantedRoutes = new HashSet<string>(StringComparer.Ordinal);
            foreach (string[] routes in listenerRoutes.Values) wantedRoutes.UnionWith(routes);
            var wantedEndpoints = new HashSet<string>(clusterEndpoints.Values, StringComparer.Ordinal);
            Routes = Referenced(typeUrl == XdsTypeUrls.RouteConfiguration ? next : store._resources[XdsTypeUrls.RouteConfiguration], wantedRoutes, MissingRoutes);
            Endpoints = Referenced(typeUrl == XdsTypeUrls.ClusterLoadAssignment ? next : store._resources[XdsTypeUrls.ClusterLoadAssignment], wantedEndpoints, MissingEndpoints);
            var wantedSecrets = new HashSet<string>(StringComparer.Ordinal);
            foreach (string[] secrets in listenerSecrets.Values) wantedSecrets.UnionWith(secrets);
            foreach (string[] secrets in clusterSecrets.Values) wantedSecrets.UnionWith(secrets);
            Secrets = Referenced(typeUrl == XdsTypeUrls.Secret ? next : store._resources[XdsTypeUrls.Secret], wantedSecrets, MissingSecrets);
        }

        public string TypeUrl { get; }
        public Dictionary<string, XdsResource> Next { get; }
        public Dictionary<string, string[]> ListenerRoutes { get; }
        public Dictionary<string, string> ClusterEndpoints { get; }
        public Dictionary<string, string[]> ListenerSecrets { get; }
        public Dictionary<string, string[]> ClusterSecrets { get; }
        public Dictionary<string, XdsResource> Secrets { get; }
        public List<string> MissingSecrets { get; } = [];
        public Dictionary<string, XdsResource> Listeners { get; }
        public Dictionary<string, XdsResource> Clusters { get; }
        public Dictionary<string, XdsResource> Routes { get; }
        public Dictionary<string, XdsResource> Endpoints { get; }
        public List<string> MissingRoutes { get; } = [];
        public List<string> MissingEndpoints { get; } = [];

        public XdsResourceSet ToSet(long generation) => new()
        {
            Listeners = Listeners,
            Routes = Routes,
            Clusters = Clusters,
            Endpoints = Endpoints,
            MissingRoutes = Sorted(MissingRoutes),
            MissingEndpoints = Sorted(MissingEndpoints),
            Secrets = Secrets,
            MissingSecrets = Sorted(MissingSecrets),
            Generation = generation,
        };

        private static Dictionary<string, XdsResource> Referenced(Dictionary<string, XdsResource> have, HashSet<string> wanted, List<string> missing)
        {
            var kept = new Dictionary<string, XdsResource>(Math.Min(have.Count, wanted.Count), StringComparer.Ordinal);
            foreach (string name in wanted)
            {
                if (have.TryGetValue(name, out XdsResource? r)) kept[name] = r;
                else missing.Add(name);
            }
            return kept;
        }

        private static List<string> Sorted(List<string> names)
        {
            names.Sort(StringComparer.Ordinal);
            return names;
        }
    }
}

/// <summary>No secret sink: every SDS secret is refused (the proxy has nowhere to serve it from).</summary>
internal sealed class NoSecrets : IXdsSecretSink
{
    public static readonly NoSecrets Instance = new();

    public string? Check(XdsResource secret) => "SDS secrets are not served by this client (no secret sink)";

    public void Apply(IReadOnlyDictionary<string, XdsResource> secrets)
    {
    }
}
