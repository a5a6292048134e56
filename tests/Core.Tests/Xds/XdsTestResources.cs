using Sidecar.Core.Protobuf;
using Sidecar.Core.Xds;
using Sidecar.Core.Xds.Protocol;

namespace Sidecar.Core.Tests.Xds;

/// <summary>Minimal real-wire Envoy resources (only the fields the client reads) and response envelopes.</summary>
internal static class XdsTestResources
{
    public const string HcmType = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

    /// <summary>Listener{name=1, filter_chains=3{filters=3{name=1, typed_config=4 Any{HCM{rds=3{route_config_name=2}}}}}}.</summary>
    public static byte[] Listener(string name, params string[] routes)
    {
        var w = new ProtoWriter();
        w.WriteString(1, name);
        foreach (string route in routes)
        {
            int chain = w.BeginMessage(3);
            int filter = w.BeginMessage(3);
            w.WriteString(1, "envoy.filters.network.http_connection_manager");
            int any = w.BeginMessage(4);
            w.WriteString(1, HcmType);
            int value = w.BeginMessage(2);
            w.WriteString(2, "stat"); // HCM stat_prefix=2
            int rds = w.BeginMessage(3);
            w.WriteString(2, route);
            w.EndMessage(rds);
            w.EndMessage(value);
            w.EndMessage(any);
            w.EndMessage(filter);
            w.EndMessage(chain);
        }
        return w.ToArray();
    }

    /// <summary>Cluster{name=1, type=2 (EDS=3 / STATIC=0), eds_cluster_config=3{service_name=2}}.</summary>
    public static byte[] Cluster(string name, bool eds = true, string? serviceName = null)
    {
        var w = new ProtoWriter();
        w.WriteString(1, name);
        if (eds)
        {
            w.WriteUInt64(2, 3);
            int config = w.BeginMessage(3);
            if (serviceName is not null) w.WriteString(2, serviceName);
            w.EndMessage(config);
        }
        return w.ToArray();
    }

    /// <summary>RouteConfiguration{name=1} / ClusterLoadAssignment{cluster_name=1}.</summary>
    public static byte[] Named(string name)
    {
        var w = new ProtoWriter();
        w.WriteString(1, name);
        return w.ToArray();
    }

    public static DiscoveryResponseMessage Sotw(string typeUrl, string version, string nonce, params byte[][] resources)
    {
        var r = new DiscoveryResponseMessage { TypeUrl = typeUrl, VersionInfo = version, Nonce = nonce };
        foreach (byte[] body in resources) r.Resources.Add(new XdsAny(typeUrl, body));
        return r;
    }

    public static DeltaDiscoveryResponseMessage Delta(string typeUrl, string nonce, (string Name, string Version, byte[] Body)[] resources, params string[] removed)
    {
        var r = new DeltaDiscoveryResponseMessage { TypeUrl = typeUrl, Nonce = nonce };
        foreach (var (name, version, body) in resources) r.Resources.Add(new DeltaResourceEntry(name, version, new XdsAny(typeUrl, body)));
        r.RemovedResources.AddRange(removed);
        return r;
    }

    /// <summary>A DiscoveryResponse on the wire (version_info=1 resources=2 type_url=4 nonce=5; Any type_url=1 value=2).</summary>
    public static byte[] EncodeSotw(DiscoveryResponseMessage m)
    {
        var w = new ProtoWriter();
        w.WriteString(1, m.VersionInfo);
        foreach (XdsAny any in m.Resources)
        {
            int mark = w.BeginMessage(2);
            w.WriteString(1, any.TypeUrl);
            w.WriteBytes(2, any.Value.Span);
            w.EndMessage(mark);
        }
        w.WriteString(4, m.TypeUrl);
        w.WriteString(5, m.Nonce);
        return w.ToArray();
    }

    /// <summary>A node whose metadata uses every Struct value kind, so the fake's decoding checks our encoding.</summary>
    public static XdsNode Node() => new()
    {
        Id = "sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local",
        Cluster = "app.ns",
        Locality = new XdsLocality("r", "z", ""),
        Metadata = System.Text.Json.Nodes.JsonNode.Parse("""
            {"ISTIO_VERSION":"1.28.0","LABELS":{"app":"a","version":"v1"},"ENVOY_STATUS_PORT":15021,
             "PILOT_SAN":["spiffe://cluster.local/ns/istio-system/sa/istiod"],"FLAG":true,"OFF":false,"NOTHING":null,"RATIO":0.25}
            """)!.AsObject(),
    };
}

/// <summary>A translator that records what it is given and rejects chosen resource names.</summary>
internal sealed class RecordingTranslator : IXdsResourceTranslator
{
    private readonly Lock _lock = new();
    private readonly List<XdsResourceSet> _published = [];

    public HashSet<string> RejectNames { get; } = new(StringComparer.Ordinal);
    public string? RejectPublish { get; set; }
    public int Checks { get; private set; }

    public IReadOnlyList<XdsResourceSet> Published
    {
        get
        {
            lock (_lock) return [.. _published];
        }
    }

    public XdsResourceSet? Last
    {
        get
        {
            lock (_lock) return _published.Count > 0 ? _published[^1] : null;
        }
    }

    public string? Check(XdsResource resource)
    {
        Checks++;
        return RejectNames.Contains(resource.Name) ? $"test translator refuses '{resource.Name}'" : null;
    }

    public string? Publish(XdsResourceSet set)
    {
        if (RejectPublish is not null) return RejectPublish;
        lock (_lock) _published.Add(set);
        return null;
    }
}
