using Sidecar.Core.Xds.Protocol;

namespace Sidecar.Core.Xds;

/// <summary>
/// The state-of-the-world ADS state machine (xDS protocol "ACK/NACK and resource type instance version",
/// "When to send an update"): per type the last accepted version_info and last nonce; an ACK echoes the
/// response's version_info and nonce; a NACK carries the response's nonce, the previous accepted
/// version_info and error_detail. LDS/CDS are wildcard (no names, each response is the full set); RDS/EDS
/// name what the listeners/clusters reference and a response may carry only some of them. Pure: no I/O,
/// no clock; the client feeds responses and sends what comes back. Survives reconnects: a new stream
/// starts with the accepted versions (so istiod can skip an unchanged push) and empty nonces.
/// </summary>
public sealed class SotwSession
{
    private sealed class TypeState
    {
        public string AcceptedVersion = "";
        public string LastNonce = "";
        public string[] Names = [];
        public bool Requested;
    }

    private readonly XdsNode _node;
    private readonly XdsResourceStore _store;
    private readonly Dictionary<string, TypeState> _types = new(StringComparer.Ordinal);
    private bool _nodeSent;

    public SotwSession(XdsNode node, XdsResourceStore store)
    {
        _node = node;
        _store = store;
        foreach (string type in XdsTypeUrls.Subscribed) _types[type] = new TypeState();
    }

    public XdsResourceStore Store => _store;

    public string AcceptedVersion(string typeUrl) => _types.TryGetValue(typeUrl, out var s) ? s.AcceptedVersion : "";

    /// <summary>The first requests of a new stream: CDS and LDS always, EDS/RDS when names are already known.</summary>
    public List<DiscoveryRequestMessage> StartStream()
    {
        _nodeSent = false;
        var requests = new List<DiscoveryRequestMessage>();
        foreach (string type in XdsTypeUrls.Subscribed)
        {
            TypeState state = _types[type];
            state.LastNonce = "";
            state.Requested = false;
            if (!XdsTypeUrls.IsWildcard(type))
            {
                state.Names = [.. _store.DesiredNames(type)];
                if (state.Names.Length == 0) continue;
            }
            state.Requested = true;
            requests.Add(Request(type, state, state.AcceptedVersion, null));
        }
        return requests;
    }

    public XdsStep<DiscoveryRequestMessage> OnResponse(ReadOnlyMemory<byte> bytes, long nowMs)
    {
        var response = new DiscoveryResponseMessage();
        XdsEnvelopeError envelope = DiscoveryResponseReader.Read(bytes, response);
        if (!envelope.IsError) return OnResponse(response, nowMs);
        var step = new XdsStep<DiscoveryRequestMessage> { TypeUrl = response.TypeUrl, Nonce = response.Nonce, Error = $"DiscoveryResponse {envelope}" };
        if (response.Nonce.Length == 0 || response.TypeUrl.Length == 0)
        {
            step.Outcome = XdsResponseOutcome.ResetStream;
            return step;
        }
        Nack(step, response);
        return step;
    }

    public XdsStep<DiscoveryRequestMessage> OnResponse(DiscoveryResponseMessage response, long nowMs)
    {
        var step = new XdsStep<DiscoveryRequestMessage>
        {
            TypeUrl = response.TypeUrl,
            Nonce = response.Nonce,
            VersionInfo = response.VersionInfo,
            ResourceCount = response.Resources.Count,
        };
        if (!_types.TryGetValue(response.TypeUrl, out TypeState? state))
        {
            step.Error = $"unsupported type_url {response.TypeUrl}";
            Nack(step, response);
            return step;
        }

        var update = new XdsUpdate { TypeUrl = response.TypeUrl, IsFullState = XdsTypeUrls.IsWildcard(response.TypeUrl) };
        step.Error = ToResources(response, update.Upserts);
        XdsApplyResult result = step.Error is null ? _store.Apply(update, nowMs) : XdsApplyResult.Reject(step.Error);
        state.LastNonce = response.Nonce;
        if (!result.Accepted)
        {
            step.Error = result.Error;
            Nack(step, response);
        }
        else
        {
            state.AcceptedVersion = response.VersionInfo;
            step.Outcome = XdsResponseOutcome.Accepted;
            step.Published = result.Published;
            step.Requests.Add(Request(response.TypeUrl, state, response.VersionInfo, null));
        }
        AddSubscriptionChanges(step.Requests);
        return step;
    }

    /// <summary>Publishes a cold set whose warming deadline passed.</summary>
    public XdsTickResult Tick(long nowMs) => _store.Tick(nowMs);

    private void Nack(XdsStep<DiscoveryRequestMessage> step, DiscoveryResponseMessage response)
    {
        step.Outcome = XdsResponseOutcome.Rejected;
        _types.TryGetValue(response.TypeUrl, out TypeState? state);
        var error = XdsErrorDetail.Rejected(step.Error ?? "rejected");
        step.Requests.Add(new DiscoveryRequestMessage
        {
            TypeUrl = response.TypeUrl,
            VersionInfo = state?.AcceptedVersion ?? "",
            ResourceNames = state?.Names ?? [],
            ResponseNonce = response.Nonce,
            ErrorDetail = error,
            Node = TakeNode(),
        });
    }

    /// <summary>RDS/EDS follow the listeners and clusters: a changed name list is a new request for that type.</summary>
    private void AddSubscriptionChanges(List<DiscoveryRequestMessage> requests)
    {
        foreach (string type in XdsTypeUrls.Subscribed)
        {
            if (XdsTypeUrls.IsWildcard(type)) continue;
            TypeState state = _types[type];
            string[] desired = [.. _store.DesiredNames(type)];
            if (state.Requested && desired.AsSpan().SequenceEqual(state.Names)) continue;
            if (!state.Requested && desired.Length == 0) continue;
            state.Names = desired;
            state.Requested = true;
            requests.Add(Request(type, state, state.AcceptedVersion, null));
        }
    }

    private DiscoveryRequestMessage Request(string type, TypeState state, string version, XdsErrorDetail? error) => new()
    {
        TypeUrl = type,
        VersionInfo = version,
        ResourceNames = state.Names,
        ResponseNonce = state.LastNonce,
        ErrorDetail = error,
        Node = TakeNode(),
    };

    private XdsNode? TakeNode()
    {
        if (_nodeSent) return null;
        _nodeSent = true;
        return _node;
    }

    private static string? ToResources(DiscoveryResponseMessage response, List<XdsResource> into)
    {
        for (int i = 0; i < response.Resources.Count; i++)
        {
            string? error = ResourceBody.TryCreate(response.TypeUrl, response.Resources[i], "", response.VersionInfo, $"resources[{i}]", out XdsResource? resource);
            if (error is not null) return error;
            into.Add(resource!);
        }
        return null;
    }
}
