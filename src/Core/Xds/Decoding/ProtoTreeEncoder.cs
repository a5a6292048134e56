using System.Globalization;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Protobuf;
using Sidecar.Core.Xds.Schema;

namespace Sidecar.Core.Xds.Decoding;

/// <summary>
/// The reverse of <see cref="ProtoTreeDecoder"/>: a config tree in proto3 JSON form (snake_case or
/// lowerCamelCase keys, "@type" Anys, "1.5s" durations…) to protobuf bytes, with the same schema. For tests,
/// the fake control plane and round trips; like protobuf's own serializers it leaves out scalars that hold
/// their default value unless the field has explicit presence, and writes repeated numbers packed.
/// </summary>
public sealed partial class ProtoTreeEncoder
{
    private const int MaxDepth = 100;

    private readonly XdsSchema _schema;
    private XdsCodecError _error;
    private string _errorPath = "";
    private string _detail = "";

    private ProtoTreeEncoder(XdsSchema schema) => _schema = schema;

    public static XdsEncodeResult Encode(string typeUrl, ConfigNode tree, XdsSchema? schema = null)
    {
        schema ??= XdsSchema.Envoy;
        return schema.FindByTypeUrl(typeUrl) is MessageDescriptor md
            ? Encode(md, tree, schema)
            : new XdsEncodeResult(null, XdsCodecError.UnknownResourceType, tree.Path, typeUrl);
    }

    public static XdsEncodeResult Encode(MessageDescriptor type, ConfigNode tree, XdsSchema? schema = null)
    {
        ProtoTreeEncoder e = new(schema ?? XdsSchema.Envoy);
        ProtoWriter w = new(1024);
        return e.MessageBody(type, tree, w, 0)
            ? new XdsEncodeResult(w.ToArray(), XdsCodecError.None, "", "")
            : new XdsEncodeResult(null, e._error, e._errorPath, e._detail);
    }

    /// <summary>Writes the fields of <paramref name="md"/> (no tag or length: the caller frames nested messages).</summary>
    private bool MessageBody(MessageDescriptor md, ConfigNode node, ProtoWriter w, int depth)
    {
        if (depth > MaxDepth)
        {
            return Fail(XdsCodecError.TooDeep, node, $"more than {MaxDepth} nested messages");
        }
        return md.WellKnown switch
        {
            WellKnownType.None => PlainBody(md, node, w, depth, skipType: false),
            WellKnownType.Any => AnyBody(node, w, depth),
            WellKnownType.Duration => TimeBody(node, w, duration: true),
            WellKnownType.Timestamp => TimeBody(node, w, duration: false),
            WellKnownType.Wrapper => node is ConfigScalar { Kind: ScalarKind.Null } || Scalar(md.Fields[0], md.Fields[0].Type, node, w, omitDefault: true),
            WellKnownType.Struct => StructBody(node, w, depth),
            WellKnownType.ListValue => ListBody(node, w, depth),
            WellKnownType.Value => ValueBody(node, w, depth),
            _ => FieldMaskBody(node, w),
        };
    }

    private bool PlainBody(MessageDescriptor md, ConfigNode node, ProtoWriter w, int depth, bool skipType)
    {
        if (node is not ConfigMap map)
        {
            return Fail(XdsCodecError.BadValue, node, $"expected an object for {md.FullName}");
        }
        Span<int> oneofSet = md.Oneofs.Length <= 16 ? stackalloc int[md.Oneofs.Length] : new int[md.Oneofs.Length];
        oneofSet.Fill(-1);
        foreach (KeyValuePair<string, ConfigNode> e in map.Entries)
        {
            if (skipType && e.Key == "@type")
            {
                continue;
            }
            if (md.FindByName(e.Key) is not FieldDescriptor f)
            {
                return Fail(XdsCodecError.UnknownField, e.Value, $"{md.FullName} has no field \"{e.Key}\"");
            }
            if (e.Value is ConfigScalar { Kind: ScalarKind.Null } && f.Message?.WellKnown != WellKnownType.Value)
            {
                continue; // proto3 JSON: null means "not set"
            }
            if (f.OneofIndex >= 0)
            {
                if (oneofSet[f.OneofIndex] >= 0 && oneofSet[f.OneofIndex] != f.Number)
                {
                    return Fail(XdsCodecError.OneofConflict, e.Value, $"oneof {md.Oneofs[f.OneofIndex]} already set");
                }
                oneofSet[f.OneofIndex] = f.Number;
            }
            if (!Field(f, e.Value, w, depth))
            {
                return false;
            }
        }
        return true;
    }

    private bool Field(FieldDescriptor f, ConfigNode value, ProtoWriter w, int depth)
    {
        if (f.IsMap)
        {
            return MapField(f, value, w, depth);
        }
        if (!f.IsRepeated)
        {
            return Single(f, value, w, depth, omitDefault: !f.HasExplicitPresence);
        }
        if (value is not ConfigList list)
        {
            return Fail(XdsCodecError.BadValue, value, "expected a list");
        }
        if (f.IsPackable)
        {
            if (list.Items.IsEmpty)
            {
                return true;
            }
            // Packed: one length-delimited run of untagged values (protobuf.dev "Packed Repeated Fields").
            int mark = w.BeginMessage(f.Number);
            foreach (ConfigNode item in list.Items)
            {
                if (!PackedValue(f, item, w))
                {
                    return false;
                }
            }
            w.EndMessage(mark);
            return true;
        }
        foreach (ConfigNode item in list.Items)
        {
            if (!Single(f, item, w, depth, omitDefault: false))
            {
                return false;
            }
        }
        return true;
    }

    private bool Single(FieldDescriptor f, ConfigNode value, ProtoWriter w, int depth, bool omitDefault)
    {
        if (f.Type != FieldType.Message)
        {
            return Scalar(f, f.Type, value, w, omitDefault);
        }
        int mark = w.BeginMessage(f.Number);
        if (!MessageBody(f.Message!, value, w, depth + 1))
        {
            return false;
        }
        w.EndMessage(mark);
        return true;
    }

    private bool MapField(FieldDescriptor f, ConfigNode value, ProtoWriter w, int depth)
    {
        if (value is not ConfigMap map)
        {
            return Fail(XdsCodecError.BadValue, value, "expected an object (map)");
        }
        foreach (KeyValuePair<string, ConfigNode> e in map.Entries)
        {
            int mark = w.BeginMessage(f.Number);
            ConfigScalar key = new(e.Value.Path, e.Key, f.MapKeyType == FieldType.Bool ? ScalarKind.Bool : ScalarKind.String);
            if (!KeyScalar(f.MapKeyType, key, w))
            {
                return false;
            }
            if (f.Type == FieldType.Message)
            {
                int inner = w.BeginMessage(2);
                if (!MessageBody(f.Message!, e.Value, w, depth + 1))
                {
                    return false;
                }
                w.EndMessage(inner);
            }
            else if (!ScalarAt(2, f.Type, f.Enum, e.Value, w, omitDefault: false))
            {
                return false;
            }
            w.EndMessage(mark);
        }
        return true;
    }

    private bool KeyScalar(FieldType keyType, ConfigScalar key, ProtoWriter w) =>
        ScalarAt(1, keyType, null, key, w, omitDefault: false);

    private bool Scalar(FieldDescriptor f, FieldType type, ConfigNode value, ProtoWriter w, bool omitDefault) =>
        ScalarAt(f.Number, type, f.Enum, value, w, omitDefault);

    private bool Fail(XdsCodecError error, ConfigNode node, string detail)
    {
        if (_error == XdsCodecError.None)
        {
            _error = error;
            _errorPath = node.Path;
            _detail = detail;
        }
        return false;
    }

    private static bool TryInteger(ConfigNode node, out long value, out ulong unsignedValue, out bool isUnsignedOnly)
    {
        value = 0;
        unsignedValue = 0;
        isUnsignedOnly = false;
        if (node is not ConfigScalar { Kind: ScalarKind.Number or ScalarKind.String } s)
        {
            return false;
        }
        if (long.TryParse(s.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            unsignedValue = (ulong)value;
            return true;
        }
        if (ulong.TryParse(s.Text, NumberStyles.None, CultureInfo.InvariantCulture, out unsignedValue))
        {
            isUnsignedOnly = true;
            return true;
        }
        // proto3 JSON parsers also take integral numbers written with a fraction or exponent ("1.0", "1e3").
        if (double.TryParse(s.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) &&
            Math.Floor(d) == d && d >= long.MinValue && d < 9.2e18)
        {
            value = (long)d;
            unsignedValue = (ulong)value;
            return true;
        }
        return false;
    }
}
