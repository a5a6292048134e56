using Sidecar.Core.Protobuf;

namespace Sidecar.Core.Xds.Protocol;

/// <summary>Why a response envelope could not be read: the wire error and the field it was found in.</summary>
public readonly record struct XdsEnvelopeError(ProtoError Error, string Field)
{
    public bool IsError => Error != ProtoError.None;
    public override string ToString() => IsError ? $"malformed {Field}: {Error}" : "ok";
}

/// <summary>
/// Decodes the two response envelopes without copying resource bytes (each Any value is a slice of the
/// input). Field numbers: envoy/service/discovery/v3/discovery.proto (DiscoveryResponse version_info=1
/// resources=2 canary=3 type_url=4 nonce=5 control_plane=6; DeltaDiscoveryResponse system_version_info=1
/// resources=2 type_url=4 nonce=5 removed_resources=6 control_plane=7 removed_resource_names=8;
/// Resource version=1 resource=2 name=3 aliases=4 ttl=6 cache_control=7 resource_name=8 metadata=9;
/// ResourceName name=1) and google/protobuf/any.proto (type_url=1 value=2). Unknown fields are skipped.
/// On error the fields read so far (type_url and nonce, if they came first) are kept, so the caller can
/// still NACK the response by its nonce.
/// </summary>
public static class DiscoveryResponseReader
{
    public static XdsEnvelopeError Read(ReadOnlyMemory<byte> data, DiscoveryResponseMessage into)
    {
        var r = new ProtoReader(data.Span);
        while (r.TryReadTag(out int field, out WireType type))
        {
            switch (field)
            {
                case 1 when type == WireType.LengthDelimited:
                    if (!r.TryReadString(out string version)) return new(r.Error, "version_info");
                    into.VersionInfo = version;
                    break;
                case 2 when type == WireType.LengthDelimited:
                    if (!TryReadSlice(ref r, data, out ReadOnlyMemory<byte> anyBytes)) return new(r.Error, "resources");
                    var anyError = TryReadAny(anyBytes, out XdsAny any);
                    if (anyError != ProtoError.None) return new(anyError, "resources[" + into.Resources.Count + "] (Any)");
                    into.Resources.Add(any);
                    break;
                case 4 when type == WireType.LengthDelimited:
                    if (!r.TryReadString(out string typeUrl)) return new(r.Error, "type_url");
                    into.TypeUrl = typeUrl;
                    break;
                case 5 when type == WireType.LengthDelimited:
                    if (!r.TryReadString(out string nonce)) return new(r.Error, "nonce");
                    into.Nonce = nonce;
                    break;
                case 1 or 2 or 4 or 5:
                    r.Fail(ProtoError.BadWireType);
                    return new(r.Error, "field " + field);
                default:
                    if (!r.TrySkip(type)) return new(r.Error, "field " + field);
                    break;
            }
        }
        return new(r.Error, "envelope");
    }

    public static XdsEnvelopeError Read(ReadOnlyMemory<byte> data, DeltaDiscoveryResponseMessage into)
    {
        var r = new ProtoReader(data.Span);
        while (r.TryReadTag(out int field, out WireType type))
        {
            switch (field)
            {
                case 1 when type == WireType.LengthDelimited:
                    if (!r.TryReadString(out string version)) return new(r.Error, "system_version_info");
                    into.SystemVersionInfo = version;
                    break;
                case 2 when type == WireType.LengthDelimited:
                    if (!TryReadSlice(ref r, data, out ReadOnlyMemory<byte> resourceBytes)) return new(r.Error, "resources");
                    var resourceError = TryReadResource(resourceBytes, out DeltaResourceEntry entry);
                    if (resourceError != ProtoError.None) return new(resourceError, "resources[" + into.Resources.Count + "]");
                    into.Resources.Add(entry);
                    break;
                case 4 when type == WireType.LengthDelimited:
                    if (!r.TryReadString(out string typeUrl)) return new(r.Error, "type_url");
                    into.TypeUrl = typeUrl;
                    break;
                case 5 when type == WireType.LengthDelimited:
                    if (!r.TryReadString(out string nonce)) return new(r.Error, "nonce");
                    into.Nonce = nonce;
                    break;
                case 6 when type == WireType.LengthDelimited:
                    if (!r.TryReadString(out string removed)) return new(r.Error, "removed_resources");
                    into.RemovedResources.Add(removed);
                    break;
                case 8 when type == WireType.LengthDelimited:
                    if (!r.TryReadBytes(out ReadOnlySpan<byte> resourceName)) return new(r.Error, "removed_resource_names");
                    var nameError = TryReadResourceName(resourceName, out string name);
                    if (nameError != ProtoError.None) return new(nameError, "removed_resource_names");
                    into.RemovedResources.Add(name);
                    break;
                case 1 or 2 or 4 or 5 or 6 or 8:
                    r.Fail(ProtoError.BadWireType);
                    return new(r.Error, "field " + field);
                default:
                    if (!r.TrySkip(type)) return new(r.Error, "field " + field);
                    break;
            }
        }
        return new(r.Error, "envelope");
    }

    /// <summary>A length-delimited field as a slice of the original memory (no copy).</summary>
    private static bool TryReadSlice(ref ProtoReader r, ReadOnlyMemory<byte> data, out ReadOnlyMemory<byte> slice)
    {
        slice = default;
        if (!r.TryReadBytes(out ReadOnlySpan<byte> bytes)) return false;
        slice = data.Slice(r.Position - bytes.Length, bytes.Length);
        return true;
    }

    private static ProtoError TryReadAny(ReadOnlyMemory<byte> data, out XdsAny any)
    {
        any = default;
        string typeUrl = "";
        ReadOnlyMemory<byte> value = ReadOnlyMemory<byte>.Empty;
        var r = new ProtoReader(data.Span);
        while (r.TryReadTag(out int field, out WireType type))
        {
            if (field == 1 && type == WireType.LengthDelimited)
            {
                if (!r.TryReadString(out typeUrl)) return r.Error;
            }
            else if (field == 2 && type == WireType.LengthDelimited)
            {
                if (!TryReadSlice(ref r, data, out value)) return r.Error;
            }
            else if (!r.TrySkip(type)) return r.Error;
        }
        if (r.Error != ProtoError.None) return r.Error;
        any = new XdsAny(typeUrl, value);
        return ProtoError.None;
    }

    private static ProtoError TryReadResource(ReadOnlyMemory<byte> data, out DeltaResourceEntry entry)
    {
        entry = default;
        string version = "", name = "";
        XdsAny? resource = null;
        var r = new ProtoReader(data.Span);
        while (r.TryReadTag(out int field, out WireType type))
        {
            switch (field)
            {
                case 1 when type == WireType.LengthDelimited:
                    if (!r.TryReadString(out version)) return r.Error;
                    break;
                case 2 when type == WireType.LengthDelimited:
                    if (!TryReadSlice(ref r, data, out ReadOnlyMemory<byte> anyBytes)) return r.Error;
                    var anyError = TryReadAny(anyBytes, out XdsAny any);
                    if (anyError != ProtoError.None) return anyError;
                    resource = any;
                    break;
                case 3 when type == WireType.LengthDelimited:
                    if (!r.TryReadString(out name)) return r.Error;
                    break;
                case 8 when type == WireType.LengthDelimited:
                    // xdstp-style ResourceName: its name is used when the plain name is absent.
                    if (!r.TryReadBytes(out ReadOnlySpan<byte> resourceName)) return r.Error;
                    var nameError = TryReadResourceName(resourceName, out string fromResourceName);
                    if (nameError != ProtoError.None) return nameError;
                    if (name.Length == 0) name = fromResourceName;
                    break;
                default:
                    if (!r.TrySkip(type)) return r.Error;
                    break;
            }
        }
        if (r.Error != ProtoError.None) return r.Error;
        entry = new DeltaResourceEntry(name, version, resource);
        return ProtoError.None;
    }

    private static ProtoError TryReadResourceName(ReadOnlySpan<byte> data, out string name)
    {
        name = "";
        var r = new ProtoReader(data);
        while (r.TryReadTag(out int field, out WireType type))
        {
            if (field == 1 && type == WireType.LengthDelimited)
            {
                if (!r.TryReadString(out name)) return r.Error;
            }
            else if (!r.TrySkip(type)) return r.Error;
        }
        return r.Error;
    }

    /// <summary>Reads field 1 (a string) of a message: the name of a Listener, Cluster, RouteConfiguration
    /// (name=1) and the cluster_name of a ClusterLoadAssignment (cluster_name=1).</summary>
    public static ProtoError TryReadNameField(ReadOnlySpan<byte> message, out string name)
    {
        name = "";
        var r = new ProtoReader(message);
        while (r.TryReadTag(out int field, out WireType type))
        {
            if (field == 1 && type == WireType.LengthDelimited)
            {
                if (!r.TryReadString(out name)) return r.Error;
            }
            else if (!r.TrySkip(type)) return r.Error;
        }
        return r.Error;
    }
}
