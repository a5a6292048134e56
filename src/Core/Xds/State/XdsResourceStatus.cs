namespace Sidecar.Core.Xds;

/// <summary>Envoy's <c>envoy.admin.v3.ClientResourceStatus</c> (admin/v3/config_dump_shared.proto), same numbers.</summary>
public enum XdsClientStatus : byte
{
    Unknown = 0,
    /// <summary>Subscribed to (an RDS/EDS/SDS name something references) and not received yet.</summary>
    Requested = 1,
    /// <summary>The control plane said it has no such resource (Delta removed_resources for a name still subscribed).</summary>
    DoesNotExist = 2,
    Acked = 3,
    /// <summary>The last update of it was rejected (<see cref="XdsUpdateFailure"/> says why); a previous version may serve.</summary>
    Nacked = 4,
}

/// <summary>Envoy's <c>UpdateFailureState</c>: the rejected resource, when, why and which version.</summary>
public sealed record XdsUpdateFailure(string TypeUrl, string Name, ReadOnlyMemory<byte> FailedConfiguration, DateTimeOffset LastUpdateAttempt,
    string Details, string VersionInfo);

/// <summary>
/// An immutable view of the client's per-resource status, published after every response so /config_dump can read it
/// from another thread: the last rejected update of each resource (until one is accepted), the names subscribed to
/// but not received, and the names the control plane said do not exist.
/// </summary>
public sealed class XdsStatusView
{
    public static readonly XdsStatusView Empty = new(new Dictionary<(string, string), XdsUpdateFailure>(), new Dictionary<string, string[]>(), new Dictionary<string, string[]>());

    private readonly IReadOnlyDictionary<(string Type, string Name), XdsUpdateFailure> _failures;
    private readonly IReadOnlyDictionary<string, string[]> _requested;
    private readonly IReadOnlyDictionary<string, string[]> _doesNotExist;

    public XdsStatusView(IReadOnlyDictionary<(string Type, string Name), XdsUpdateFailure> failures, IReadOnlyDictionary<string, string[]> requested,
        IReadOnlyDictionary<string, string[]> doesNotExist)
    {
        _failures = failures;
        _requested = requested;
        _doesNotExist = doesNotExist;
    }

    public XdsUpdateFailure? FailureOf(string typeUrl, string name) => _failures.GetValueOrDefault((typeUrl, name));

    /// <summary>Rejected updates of resources that are not serving (new ones refused), sorted by name.</summary>
    public IEnumerable<XdsUpdateFailure> Failures(string typeUrl) =>
        _failures.Values.Where(f => f.TypeUrl == typeUrl).OrderBy(f => f.Name, StringComparer.Ordinal);

    public IReadOnlyList<string> Requested(string typeUrl) => _requested.GetValueOrDefault(typeUrl) ?? [];

    public IReadOnlyList<string> DoesNotExist(string typeUrl) => _doesNotExist.GetValueOrDefault(typeUrl) ?? [];

    /// <summary>The status of a resource that serves (ACKED, or NACKED when its last update was refused).</summary>
    public XdsClientStatus StatusOfServing(string typeUrl, string name) =>
        _failures.ContainsKey((typeUrl, name)) ? XdsClientStatus.Nacked : XdsClientStatus.Acked;
}

/// <summary>Keeps the per-resource status for <see cref="XdsResourceStore"/> (the client loop's thread only).</summary>
internal sealed class XdsStatusTracker
{
    private readonly Dictionary<(string Type, string Name), XdsUpdateFailure> _failures = [];
    private readonly Dictionary<string, HashSet<string>> _doesNotExist = new(StringComparer.Ordinal);

    /// <summary>A rejected update: every new or changed resource in it is NACKED with the reason.</summary>
    public void Rejected(XdsUpdate update, IReadOnlyDictionary<string, XdsResource> current, string details, DateTimeOffset now)
    {
        foreach (XdsResource r in update.Upserts)
        {
            if (current.TryGetValue(r.Name, out XdsResource? held) && held.Version == r.Version && held.Bytes.Span.SequenceEqual(r.Bytes.Span)) continue;
            _failures[(r.TypeUrl, r.Name)] = new XdsUpdateFailure(r.TypeUrl, r.Name, r.Bytes, now, details, r.Version);
        }
    }

    /// <summary>An accepted update: its resources are no longer NACKED; removed names still wanted do not exist.</summary>
    public void Accepted(XdsUpdate update, ISet<string> stillWanted)
    {
        if (update.IsFullState)
        {
            // SotW LDS/CDS: a name the new full set lacks is gone, and so is its refused update.
            var names = new HashSet<string>(update.Upserts.Select(r => r.Name), StringComparer.Ordinal);
            foreach (var key in _failures.Keys.Where(k => k.Type == update.TypeUrl && !names.Contains(k.Name)).ToList()) _failures.Remove(key);
        }
        foreach (XdsResource r in update.Upserts)
        {
            _failures.Remove((r.TypeUrl, r.Name));
            if (_doesNotExist.TryGetValue(r.TypeUrl, out HashSet<string>? gone)) gone.Remove(r.Name);
        }
        foreach (string name in update.Removals)
        {
            _failures.Remove((update.TypeUrl, name));
            if (stillWanted.Contains(name))
            {
                if (!_doesNotExist.TryGetValue(update.TypeUrl, out HashSet<string>? gone)) _doesNotExist[update.TypeUrl] = gone = new HashSet<string>(StringComparer.Ordinal);
                gone.Add(name);
            }
        }
    }

    /// <summary>
    /// The view: failures kept only for resources still held or still wanted; REQUESTED = wanted, not held, not known
    /// missing.
    /// </summary>
    public XdsStatusView Snapshot(Func<string, IReadOnlyDictionary<string, XdsResource>> held, Func<string, SortedSet<string>> wanted)
    {
        var requested = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var doesNotExist = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (string type in XdsTypeUrls.Subscribed)
        {
            if (XdsTypeUrls.IsWildcard(type)) continue;
            SortedSet<string> want = wanted(type);
            IReadOnlyDictionary<string, XdsResource> have = held(type);
            HashSet<string>? gone = _doesNotExist.GetValueOrDefault(type);
            gone?.IntersectWith(want);
            var missing = new List<string>();
            foreach (string name in want)
            {
                if (!have.ContainsKey(name) && gone?.Contains(name) != true) missing.Add(name);
            }
            if (missing.Count > 0) requested[type] = [.. missing];
            if (gone is { Count: > 0 }) doesNotExist[type] = [.. gone.Order(StringComparer.Ordinal)];
        }
        return new XdsStatusView(new Dictionary<(string, string), XdsUpdateFailure>(_failures), requested, doesNotExist);
    }
}
