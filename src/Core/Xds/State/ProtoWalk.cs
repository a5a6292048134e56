using Sidecar.Core.Protobuf;

namespace Sidecar.Core.Xds;

/// <summary>
/// The two moves the dependency readers (<see cref="ResourceDependencies"/>, <see cref="SecretReferences"/>) make over
/// serialized resources: visit each nested message of one or two fields, skipping everything else, and split an Any
/// (google/protobuf/any.proto: type_url=1, value=2). First wire error wins; nothing throws.
/// </summary>
internal static class ProtoWalk
{
    /// <summary>Visits one nested message, collecting names; returns the first wire error.</summary>
    public delegate ProtoError Visitor(ReadOnlySpan<byte> message, List<string> names);

    /// <summary>Calls <paramref name="visit"/> for each message in field <paramref name="a"/> or <paramref name="b"/>.</summary>
    public static ProtoError ForEach(ReadOnlySpan<byte> message, int a, int b, Visitor visit, List<string> names)
    {
        var r = new ProtoReader(message);
        while (r.TryReadTag(out int field, out WireType type))
        {
            if ((field == a || field == b) && type == WireType.LengthDelimited)
            {
                if (!r.TryReadBytes(out ReadOnlySpan<byte> nested)) return r.Error;
                ProtoError e = visit(nested, names);
                if (e != ProtoError.None) return e;
            }
            else if (!r.TrySkip(type)) return r.Error;
        }
        return r.Error;
    }

    public static ProtoError Any(ReadOnlySpan<byte> any, out string typeUrl, out ReadOnlySpan<byte> value)
    {
        typeUrl = "";
        value = default;
        var r = new ProtoReader(any);
        while (r.TryReadTag(out int field, out WireType type))
        {
            if (field == 1 && type == WireType.LengthDelimited)
            {
                if (!r.TryReadString(out typeUrl)) return r.Error;
            }
            else if (field == 2 && type == WireType.LengthDelimited)
            {
                if (!r.TryReadBytes(out value)) return r.Error;
            }
            else if (!r.TrySkip(type)) return r.Error;
        }
        return r.Error;
    }
}
