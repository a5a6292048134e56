using Sidecar.Core.Protobuf;

namespace Sidecar.Core.Tests.Xds;

/// <summary>
/// Protobuf pieces of EDS resources, written by hand (field numbers: envoy/config/endpoint/v3/endpoint_components.proto,
/// envoy/config/core/v3/address.proto and base.proto, google/protobuf/struct.proto).
/// </summary>
internal static class EdsTestResources
{
    /// <summary>LbEndpoint.endpoint = 1: Endpoint{address=1 Address{socket_address=1 SocketAddress{address=2, port_value=3}}}; port 0 is left out.</summary>
    public static void Endpoint(ProtoWriter w, string host, int port)
    {
        int endpoint = w.BeginMessage(1);
        int address = w.BeginMessage(1);
        int socket = w.BeginMessage(1);
        w.WriteString(2, host);
        if (port != 0) w.WriteUInt64(3, (ulong)port);
        w.EndMessage(socket);
        w.EndMessage(address);
        w.EndMessage(endpoint);
    }

    /// <summary>One Metadata.filter_metadata entry (field 1): {ns: Struct{fields: {key: Value written by <paramref name="value"/>}}}.</summary>
    public static void MetadataEntry(ProtoWriter w, string ns, string key, Action<ProtoWriter> value)
    {
        int entry = w.BeginMessage(1);
        w.WriteString(1, ns);
        int st = w.BeginMessage(2);
        int field = w.BeginMessage(1);
        w.WriteString(1, key);
        int v = w.BeginMessage(2);
        value(w);
        w.EndMessage(v);
        w.EndMessage(field);
        w.EndMessage(st);
        w.EndMessage(entry);
    }
}
