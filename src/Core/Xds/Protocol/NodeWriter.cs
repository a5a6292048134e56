using System.Text.Json;
using System.Text.Json.Nodes;
using Sidecar.Core.Protobuf;

namespace Sidecar.Core.Xds.Protocol;

/// <summary>
/// Encodes envoy.config.core.v3.Node (envoy/config/core/v3/base.proto: id=1 cluster=2 metadata=3 locality=4
/// user_agent_name=6 user_agent_build_version=8; BuildVersion version=1; SemanticVersion major_number=1
/// minor_number=2 patch=3; Locality region=1 zone=2 sub_zone=3) and its metadata as google.protobuf.Struct
/// (struct.proto: Struct fields=1 (map entry key=1 value=2); Value null_value=1 number_value=2
/// string_value=3 bool_value=4 struct_value=5 list_value=6; ListValue values=1).
/// </summary>
public static class NodeWriter
{
    public static void WriteBody(ProtoWriter w, XdsNode node)
    {
        if (node.Id.Length > 0) w.WriteString(1, node.Id);
        if (node.Cluster.Length > 0) w.WriteString(2, node.Cluster);
        int metadata = w.BeginMessage(3);
        WriteStructBody(w, node.Metadata);
        w.EndMessage(metadata);
        if (node.Locality is { IsEmpty: false } locality)
        {
            int mark = w.BeginMessage(4);
            if (locality.Region.Length > 0) w.WriteString(1, locality.Region);
            if (locality.Zone.Length > 0) w.WriteString(2, locality.Zone);
            if (locality.SubZone.Length > 0) w.WriteString(3, locality.SubZone);
            w.EndMessage(mark);
        }
        w.WriteString(6, node.UserAgentName);
        int build = w.BeginMessage(8);
        int semver = w.BeginMessage(1);
        w.WriteUInt64(1, (ulong)node.UserAgentVersion.Major);
        w.WriteUInt64(2, (ulong)node.UserAgentVersion.Minor);
        w.WriteUInt64(3, (ulong)node.UserAgentVersion.Patch);
        w.EndMessage(semver);
        w.EndMessage(build);
    }

    /// <summary>Struct fields in ordinal key order, so the same metadata always encodes to the same bytes.</summary>
    public static void WriteStructBody(ProtoWriter w, JsonObject obj)
    {
        var keys = new List<string>(obj.Count);
        foreach (var kv in obj) keys.Add(kv.Key);
        keys.Sort(StringComparer.Ordinal);
        foreach (string key in keys)
        {
            int entry = w.BeginMessage(1);
            w.WriteString(1, key);
            int value = w.BeginMessage(2);
            WriteValueBody(w, obj[key]);
            w.EndMessage(value);
            w.EndMessage(entry);
        }
    }

    private static void WriteValueBody(ProtoWriter w, JsonNode? node)
    {
        switch (node)
        {
            case null:
                w.WriteUInt64(1, 0); // NullValue.NULL_VALUE
                break;
            case JsonObject obj:
                int s = w.BeginMessage(5);
                WriteStructBody(w, obj);
                w.EndMessage(s);
                break;
            case JsonArray array:
                int list = w.BeginMessage(6);
                foreach (JsonNode? item in array)
                {
                    int v = w.BeginMessage(1);
                    WriteValueBody(w, item);
                    w.EndMessage(v);
                }
                w.EndMessage(list);
                break;
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String:
                        w.WriteString(3, value.GetValue<string>());
                        break;
                    case JsonValueKind.Number:
                        w.WriteDouble(2, AsDouble(value));
                        break;
                    case JsonValueKind.True:
                        w.WriteBool(4, true);
                        break;
                    case JsonValueKind.False:
                        w.WriteBool(4, false);
                        break;
                    default:
                        w.WriteUInt64(1, 0);
                        break;
                }
                break;
        }
    }

    private static double AsDouble(JsonValue value) =>
        value.TryGetValue(out double d) ? d
        : value.TryGetValue(out long l) ? l
        : value.TryGetValue(out int i) ? i
        : 0;
}
