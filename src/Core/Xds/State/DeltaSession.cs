using Sidecar.Core.Xds.Protocol;

namespace Sidecar.Core.Xds;

/// <summary>
/// The incremental (Delta) ADS state machine, istiod's default for sidecars (xDS protocol "Incremental xDS"):
/// every response has a nonce and is ACKed by <c>response_nonce</c> alone or NACKed with error_detail;
/// resources carry their own versions; <c>removed_resources</c> deletes. LDS/CDS use the legacy wildcard
/// (a first request naming nothing); RDS/EDS subscribe and unsubscribe by name as listeners and clusters
/// change. A new stream's first request per type lists <c>initial_resource_versions</c> for what the
/// client still holds, so istiod sends only what changed meanwhile. Pure: no I/O, no clock.
/// </summary>
public sealed class DeltaSession
{
    private readonly XdsNode _node;
    private readonly XdsResourceStore _store;
    private readonly Dictionary<string, SortedSet<string>> _subscribed = new(StringComparer.Ordinal);
    private bool _nodeSent;

    public DeltaSession(XdsNode node, XdsResourceStore store)
    {
        _node = node;
        _store = store;
        foreach (string type in XdsTypeUrls.Subscribed) _subscribed[type] = new SortedSet<string>(StringComparer.Ordinal);
    }

    public XdsResourceStore Store => _store;

    public List<DeltaDiscoveryRequestMessage> StartStream()
    {
        _nodeSent = false;
        var requests = new List<DeltaDiscoveryRequestMessage>();
        foreach (string type in XdsTypeUrls.Subscribed)
        {
            SortedSet<string> subscribed = _subscribed[type];
            subscribed.Clear();
            if (!XdsTypeUrls.IsWildcard(type))
            {
                subscribed.UnionWith(_store.DesiredNames(type));
                if (subscribed.Count == 0) continue;
            }
            var versions = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var kv in _store.Resources(type)) versions[kv.Key] = kv.Value.Version;
            requests.Add(new DeltaDiscoveryRequestMessage
            {
                Node = TakeNode(),
                TypeUrl = type,
                Subscribe = [.. subscribed],
                InitialResourceVersions = versions,
            });
        }
        return requests;
    }

    public XdsStep<DeltaDiscoveryRequestMessage> OnResponse(ReadOnlyMemory<byte> bytes, long nowMs)
    {
        var response = new DeltaDiscoveryResponseMessage();
        XdsEnvelopeError envelope = DiscoveryResponseReader.Read(bytes, response);
        if (!envelope.IsError) return OnResponse(response, nowMs);
        var step = new XdsStep<DeltaDiscoveryRequestMessage> { TypeUrl = response.TypeUrl, Nonce = response.Nonce, Error = $"DeltaDiscoveryResponse {envelope}" };
        if (response.Nonce.Length == 0 || response.TypeUrl.Length == 0)
        {
            step.Outcome = XdsResponseOutcome.ResetStream;
            return step;
        }
        Nack(step, response.TypeUrl, response.Nonce);
        return step;
    }

    public XdsStep<DeltaDiscoveryRequestMessage> OnResponse(DeltaDiscoveryResponseMessage response, long nowMs)
    {
        var step = new XdsStep<DeltaDiscoveryRequestMessage>
        {
            TypeUrl = response.TypeUrl,
            Nonce = response.Nonce,
            VersionInfo = response.SystemVersionInfo,
            ResourceCount = response.Resources.Count + response.RemovedResources.Count,
        };
        if (!XdsTypeUrls.IsKnown(response.TypeUrl))
        {
            step.Error = $"unsupported type_url {response.TypeUrl}";
            Nack(step, response.TypeUrl, response.Nonce);
            return step;
        }

        var update = new XdsUpdate { TypeUrl = response.TypeUrl, Removals = response.RemovedResources };
        step.Error = ToResources(response, update.Upserts);
        XdsApplyResult result = step.Error is null ? _store.Apply(update, nowMs) : XdsApplyResult.Reject(step.Error);
        if (!result.Accepted)
        {
            step.Error = result.Error;
            Nack(step, response.TypeUrl, response.Nonce);
        }
        else
        {
            step.Outcome = XdsResponseOutcome.Accepted;
            step.Published = result.Published;
            step.Requests.Add(new DeltaDiscoveryRequestMessage { TypeUrl = response.TypeUrl, ResponseNonce = response.Nonce, Node = TakeNode() });
        }
        AddSubscriptionChanges(step.Requests);
        return step;
    }

    public XdsTickResult Tick(long nowMs) => _store.Tick(nowMs);

    private void Nack(XdsStep<DeltaDiscoveryRequestMessage> step, string typeUrl, string nonce)
    {
        step.Outcome = XdsResponseOutcome.Rejected;
        step.Requests.Add(new DeltaDiscoveryRequestMessage
        {
            TypeUrl = typeUrl,
            ResponseNonce = nonce,
            ErrorDetail = XdsErrorDetail.Rejected(step.Error ?? "rejected"),
            Node = TakeNode(),
        });
    }

    private void AddSubscriptionChanges(List<DeltaDiscoveryRequestMessage> requests)
    {
        foreach (string type in XdsTypeUrls.Subscribed)
        {
            if (XdsTypeUrls.IsWildcard(type)) continue;
            SortedSet<string> subscribed = _subscribed[type];
            SortedSet<string> desired = _store.DesiredNames(type);
            var add = new List<string>();
            var remove = new List<string>();
            foreach (string name in desired)
            {
                if (!subscribed.Contains(name)) add.Add(name);
            }
            foreach (string name in subscribed)
            {
                if (!desired.Contains(name)) remove.Add(name);
            }
            if (add.Count == 0 && remove.Count == 0) continue;
            subscribed.UnionWith(add);
            subscribed.ExceptWith(remove);
            requests.Add(new DeltaDiscoveryRequestMessage { TypeUrl = type, Subscribe = add, Unsubscribe = remove, Node = TakeNode() });
        }
    }

    private XdsNode? TakeNode()
    {
        if (_nodeSent) return null;
        _nodeSent = true;
        return _node;
    }

    /// <summary>Entries without a body (a name and version only) carry nothing to apply and are skipped.</summary>
    private static string? ToResources(DeltaDiscoveryResponseMessage response, List<XdsResource> into)
    {
        foreach (DeltaResourceEntry entry in response.Resources)
        {
            if (entry.Resource is not { } any) continue;
            string? error = ResourceBody.TryCreate(response.TypeUrl, any, entry.Name, entry.Version, $"'{entry.Name}'", out XdsResource? resource);
            if (error is not null) return error;
            into.Add(resource!);
        }
        return null;
    }
}
