using Sidecar.Core.Protobuf;

namespace Sidecar.Core.Xds.Protocol;

/// <summary>
/// Encodes the two request envelopes. Field numbers: envoy/service/discovery/v3/discovery.proto
/// (DiscoveryRequest version_info=1 node=2 resource_names=3 type_url=4 response_nonce=5 error_detail=6;
/// DeltaDiscoveryRequest node=1 type_url=2 resource_names_subscribe=3 resource_names_unsubscribe=4
/// initial_resource_versions=5 response_nonce=6 error_detail=7) and google/rpc/status.proto
/// (code=1 message=2).
/// </summary>
public static class DiscoveryRequestWriter
{
    public static byte[] Encode(DiscoveryRequestMessage request)
    {
        var w = new ProtoWriter(128);
        if (request.VersionInfo.Length > 0) w.WriteString(1, request.VersionInfo);
        if (request.Node is not null)
        {
            int mark = w.BeginMessage(2);
            NodeWriter.WriteBody(w, request.Node);
            w.EndMessage(mark);
        }
        foreach (string name in request.ResourceNames) w.WriteString(3, name);
        w.WriteString(4, request.TypeUrl);
        if (request.ResponseNonce.Length > 0) w.WriteString(5, request.ResponseNonce);
        if (request.ErrorDetail is { } error) WriteStatus(w, 6, error);
        return w.ToArray();
    }

    public static byte[] Encode(DeltaDiscoveryRequestMessage request)
    {
        var w = new ProtoWriter(128);
        if (request.Node is not null)
        {
            int mark = w.BeginMessage(1);
            NodeWriter.WriteBody(w, request.Node);
            w.EndMessage(mark);
        }
        w.WriteString(2, request.TypeUrl);
        foreach (string name in request.Subscribe) w.WriteString(3, name);
        foreach (string name in request.Unsubscribe) w.WriteString(4, name);
        // map<string,string> is a repeated entry message {key=1, value=2} (protobuf.dev "Maps").
        foreach (var kv in request.InitialResourceVersions)
        {
            int mark = w.BeginMessage(5);
            w.WriteString(1, kv.Key);
            w.WriteString(2, kv.Value);
            w.EndMessage(mark);
        }
        if (request.ResponseNonce.Length > 0) w.WriteString(6, request.ResponseNonce);
        if (request.ErrorDetail is { } error) WriteStatus(w, 7, error);
        return w.ToArray();
    }

    private static void WriteStatus(ProtoWriter w, int field, XdsErrorDetail error)
    {
        int mark = w.BeginMessage(field);
        if (error.Code != 0) w.WriteInt64(1, error.Code);
        if (error.Message.Length > 0) w.WriteString(2, error.Message);
        w.EndMessage(mark);
    }
}
