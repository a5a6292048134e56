using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Protobuf;
using Sidecar.Core.Xds.Schema;

namespace Sidecar.Core.Xds.Decoding;

/// <summary>Scalars, maps and the well-known types' JSON forms (protobuf.dev "JSON Mapping").</summary>
public sealed partial class ProtoTreeDecoder
{
    private ConfigMap? MapField(FieldDescriptor f, ReadOnlySpan<byte> data, ReadOnlySpan<Occurrence> occ, int index, string path, int depth)
    {
        int self = _order++;
        List<KeyValuePair<string, ConfigNode>> entries = [];
        Dictionary<string, int>? positions = null;
        foreach (Occurrence o in occ)
        {
            if (o.Field != index)
            {
                continue;
            }
            if (o.Wire != WireType.LengthDelimited)
            {
                return Fail(XdsCodecError.WrongWireType, path, "map entry must be length-delimited");
            }
            // A map entry is a message { key = 1; value = 2; } (protobuf.dev "Maps": backwards compatibility).
            ReadOnlySpan<byte> entry = data.Slice(o.Start, o.Length);
            Occurrence key = new(0, ExpectedWire(f.MapKeyType), 0, 0, 0);
            Occurrence value = new(1, f.Type == FieldType.Message ? WireType.LengthDelimited : ExpectedWire(f.Type), 0, 0, 0);
            bool hasValue = false;
            ProtoReader r = new(entry);
            while (r.TryReadTag(out int number, out WireType wire))
            {
                if (!TryReadValue(ref r, wire, out int start, out int length, out ulong v))
                {
                    break;
                }
                if (number == 1)
                {
                    key = new Occurrence(0, wire, start, length, v);
                }
                else if (number == 2)
                {
                    value = new Occurrence(1, wire, start, length, v);
                    hasValue = true;
                }
            }
            if (r.Error != ProtoError.None)
            {
                return FailWire(r.Error, path, "map entry");
            }
            if (key.Wire != ExpectedWire(f.MapKeyType))
            {
                return Fail(XdsCodecError.WrongWireType, path, "map key");
            }
            if (ScalarValue(f.MapKeyType, null, key, entry, path) is not ConfigScalar keyNode)
            {
                return null;
            }
            string entryPath = ConfigNode.ChildPath(path, keyNode.Text);
            ConfigNode? valueNode;
            if (f.Type == FieldType.Message)
            {
                if (value.Wire != WireType.LengthDelimited)
                {
                    return Fail(XdsCodecError.WrongWireType, entryPath, "map value");
                }
                valueNode = MessageValue(f.Message!, hasValue ? entry.Slice(value.Start, value.Length) : [], entryPath, depth + 1);
            }
            else
            {
                valueNode = CheckWire(f, value.Wire, entryPath) ? ScalarValue(f.Type, f.Enum, value, entry, entryPath) : null;
            }
            if (valueNode is null)
            {
                return null;
            }
            // A key seen again replaces the earlier value (protobuf.dev "Maps": last key wins).
            positions ??= new Dictionary<string, int>(StringComparer.Ordinal);
            if (positions.TryGetValue(keyNode.Text, out int at))
            {
                entries[at] = new(keyNode.Text, valueNode);
            }
            else
            {
                positions[keyNode.Text] = entries.Count;
                entries.Add(new(keyNode.Text, valueNode));
            }
        }
        return new ConfigMap(path, [.. entries], self);
    }

    /// <summary>A scalar in its proto3 JSON form: 64-bit integers as strings, enums by name, bytes as base64.</summary>
    private ConfigScalar? ScalarValue(FieldType type, EnumDescriptor? enumType, Occurrence o, ReadOnlySpan<byte> data, string path)
    {
        ulong v = o.Value;
        CultureInfo inv = CultureInfo.InvariantCulture;
        switch (type)
        {
            case FieldType.Int32:
                return Number(path, ((int)(long)v).ToString(inv));
            case FieldType.SInt32:
                return Number(path, ((int)ProtoReader.DecodeZigZag(v)).ToString(inv));
            case FieldType.SFixed32:
                return Number(path, ((int)(uint)v).ToString(inv));
            case FieldType.UInt32 or FieldType.Fixed32:
                return Number(path, ((uint)v).ToString(inv));
            case FieldType.Int64 or FieldType.SFixed64:
                return Text(path, ((long)v).ToString(inv));
            case FieldType.SInt64:
                return Text(path, ProtoReader.DecodeZigZag(v).ToString(inv));
            case FieldType.UInt64 or FieldType.Fixed64:
                return Text(path, v.ToString(inv));
            case FieldType.Bool:
                return new ConfigScalar(path, v != 0 ? "true" : "false", ScalarKind.Bool, _order++);
            case FieldType.Double:
            {
                string s = WellKnownJson.FormatDouble(BitConverter.UInt64BitsToDouble(v), out bool isNumber);
                return isNumber ? Number(path, s) : Text(path, s);
            }
            case FieldType.Float:
            {
                string s = WellKnownJson.FormatFloat(BitConverter.UInt32BitsToSingle((uint)v), out bool isNumber);
                return isNumber ? Number(path, s) : Text(path, s);
            }
            case FieldType.Enum:
            {
                int n = (int)(long)v;
                // Numbers the schema does not name print as numbers (protobuf.dev JSON: unknown enum values).
                return enumType?.NameOf(n) is string name ? Text(path, name) : Number(path, n.ToString(inv));
            }
            case FieldType.String:
            {
                ReadOnlySpan<byte> bytes = data.Slice(o.Start, o.Length);
                if (!Utf8.IsValid(bytes))
                {
                    FailWire(ProtoError.BadUtf8, path, "string");
                    return null;
                }
                return Text(path, Encoding.UTF8.GetString(bytes));
            }
            default:
                return Text(path, Convert.ToBase64String(data.Slice(o.Start, o.Length)));
        }
    }

    /// <summary>Any: "@type" then the packed message's fields; well-known payloads as "value" (protobuf.dev JSON, Any).</summary>
    private ConfigNode? AnyValue(ReadOnlySpan<byte> data, string path, int depth)
    {
        string typeUrl = "";
        ReadOnlySpan<byte> value = [];
        ProtoReader r = new(data);
        while (r.TryReadTag(out int number, out WireType wire))
        {
            if (number == 1 && wire == WireType.LengthDelimited)
            {
                if (!r.TryReadBytes(out ReadOnlySpan<byte> url) || !Utf8.IsValid(url))
                {
                    return FailWire(r.Error == ProtoError.None ? ProtoError.BadUtf8 : r.Error, path, "Any.type_url");
                }
                typeUrl = Encoding.UTF8.GetString(url);
            }
            else if (number == 2 && wire == WireType.LengthDelimited)
            {
                if (!r.TryReadBytes(out value))
                {
                    break;
                }
            }
            else if (number is 1 or 2)
            {
                return Fail(XdsCodecError.WrongWireType, path, "Any");
            }
            else if (!r.TrySkip(wire))
            {
                break;
            }
        }
        if (r.Error != ProtoError.None)
        {
            return FailWire(r.Error, path, "Any");
        }
        if (typeUrl.Length == 0)
        {
            // An unset Any (no type, no value) prints as {} (what the reference printers do); a value without
            // a type cannot be interpreted.
            return value.IsEmpty ? new ConfigMap(path, [], _order++) : Fail(XdsCodecError.BadAny, path, "Any with a value but no type_url");
        }
        if (_schema.FindByTypeUrl(typeUrl) is not MessageDescriptor inner)
        {
            if (!_options.AllowOpaqueAny)
            {
                return Fail(XdsCodecError.UnknownAnyType, path, typeUrl);
            }
            int self = _order++;
            return new ConfigMap(path,
            [
                new("@type", new ConfigScalar(ConfigNode.ChildPath(path, "@type"), typeUrl, ScalarKind.String, _order++)),
                new("@opaque", new ConfigScalar(ConfigNode.ChildPath(path, "@opaque"), Convert.ToBase64String(value), ScalarKind.String, _order++)),
            ], self);
        }
        if (depth + 1 > _options.MaxDepth)
        {
            return Fail(XdsCodecError.TooDeep, path, $"more than {_options.MaxDepth} nested messages");
        }
        if (inner.WellKnown == WellKnownType.None)
        {
            return PlainMessage(inner, value, path, depth + 1, typeUrl, unwrap: false);
        }
        int wrapper = _order++;
        ConfigScalar type = new(ConfigNode.ChildPath(path, "@type"), typeUrl, ScalarKind.String, _order++);
        ConfigNode? payload = MessageValue(inner, value, ConfigNode.ChildPath(path, "value"), depth + 1);
        return payload is null ? null : new ConfigMap(path, [new("@type", type), new("value", payload)], wrapper);
    }

    private ConfigNode? TimeValue(WellKnownType kind, ReadOnlySpan<byte> data, string path)
    {
        long seconds = 0;
        int nanos = 0;
        ProtoReader r = new(data);
        while (r.TryReadTag(out int number, out WireType wire))
        {
            if (wire == WireType.Varint && number is 1 or 2)
            {
                if (!r.TryReadVarint(out ulong v))
                {
                    break;
                }
                if (number == 1)
                {
                    seconds = (long)v;
                }
                else
                {
                    nanos = (int)(long)v;
                }
            }
            else if (number is 1 or 2)
            {
                return Fail(XdsCodecError.WrongWireType, path, kind.ToString());
            }
            else if (!r.TrySkip(wire))
            {
                break;
            }
        }
        if (r.Error != ProtoError.None)
        {
            return FailWire(r.Error, path, kind.ToString());
        }
        bool ok = kind == WellKnownType.Duration
            ? WellKnownJson.TryFormatDuration(seconds, nanos, out string text)
            : WellKnownJson.TryFormatTimestamp(seconds, nanos, out text);
        return ok ? Text(path, text) : Fail(XdsCodecError.OutOfRange, path, $"{kind} seconds={seconds} nanos={nanos}");
    }

    /// <summary>DoubleValue … BytesValue print as their bare value, the default when the value field is absent.</summary>
    private ConfigNode? WrapperValue(MessageDescriptor md, ReadOnlySpan<byte> data, string path)
    {
        FieldDescriptor f = md.Fields[0];
        Occurrence value = new(0, ExpectedWire(f.Type), 0, 0, 0);
        ProtoReader r = new(data);
        while (r.TryReadTag(out int number, out WireType wire))
        {
            if (!TryReadValue(ref r, wire, out int start, out int length, out ulong v))
            {
                break;
            }
            if (number == 1)
            {
                if (!CheckWire(f, wire, path))
                {
                    return null;
                }
                value = new Occurrence(0, wire, start, length, v);
            }
        }
        if (r.Error != ProtoError.None)
        {
            return FailWire(r.Error, path, md.FullName);
        }
        return ScalarValue(f.Type, null, value, data, path);
    }

    /// <summary>Struct: a plain JSON object; ListValue: a plain JSON array; Value: whichever JSON value its oneof holds.</summary>
    private ConfigNode? JsonValue(WellKnownType kind, ReadOnlySpan<byte> data, string path, int depth)
    {
        string name = kind switch
        {
            WellKnownType.Struct => "google.protobuf.Struct",
            WellKnownType.ListValue => "google.protobuf.ListValue",
            _ => "google.protobuf.Value",
        };
        ConfigNode? content = PlainMessage(_schema.FindMessage(name)!, data, path, depth, null, unwrap: true);
        if (content is not null || _error != XdsCodecError.None)
        {
            // null_value is an enum inside Value; in JSON it is just null.
            return content is ConfigScalar { Kind: ScalarKind.String or ScalarKind.Number } s && kind == WellKnownType.Value && IsNullValue(data)
                ? new ConfigScalar(path, "null", ScalarKind.Null, s.Order)
                : content;
        }
        return kind switch
        {
            WellKnownType.Struct => new ConfigMap(path, [], _order++),
            WellKnownType.ListValue => new ConfigList(path, [], _order++),
            // An unset Value has no JSON form; null is the nearest honest rendering.
            _ => new ConfigScalar(path, "null", ScalarKind.Null, _order++),
        };
    }

    /// <summary>Whether a Value's winning oneof member is null_value (field 1).</summary>
    private static bool IsNullValue(ReadOnlySpan<byte> data)
    {
        int last = 0;
        ProtoReader r = new(data);
        while (r.TryReadTag(out int number, out WireType wire) && r.TrySkip(wire))
        {
            if (number is >= 1 and <= 6)
            {
                last = number;
            }
        }
        return last == 1;
    }

    /// <summary>FieldMask: the paths in lowerCamelCase joined by commas.</summary>
    private ConfigNode? FieldMaskValue(ReadOnlySpan<byte> data, string path)
    {
        List<string> paths = [];
        ProtoReader r = new(data);
        while (r.TryReadTag(out int number, out WireType wire))
        {
            if (number == 1 && wire == WireType.LengthDelimited && r.TryReadString(out string p))
            {
                paths.Add(string.Join('.', p.Split('.').Select(SnakeToCamel)));
            }
            else if (number != 1 && !r.TrySkip(wire))
            {
                break;
            }
        }
        return r.Error != ProtoError.None ? FailWire(r.Error, path, "FieldMask") : Text(path, string.Join(',', paths));
    }

    private static string SnakeToCamel(string s)
    {
        StringBuilder sb = new(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            sb.Append(s[i] == '_' && i + 1 < s.Length ? char.ToUpperInvariant(s[++i]) : s[i]);
        }
        return sb.ToString();
    }

    private static bool IsDefault(FieldType type, Occurrence o, ReadOnlySpan<byte> data) => type switch
    {
        FieldType.String or FieldType.Bytes => o.Length == 0,
        // -0.0 is not the default (its bits are not zero), as in the reference implementations.
        FieldType.Float => (uint)o.Value == 0,
        _ => o.Value == 0,
    };

    internal static WireType ExpectedWire(FieldType type) => type switch
    {
        FieldType.Double or FieldType.Fixed64 or FieldType.SFixed64 => WireType.Fixed64,
        FieldType.Float or FieldType.Fixed32 or FieldType.SFixed32 => WireType.Fixed32,
        FieldType.String or FieldType.Bytes or FieldType.Message => WireType.LengthDelimited,
        _ => WireType.Varint,
    };

    private bool CheckWire(FieldDescriptor f, WireType wire, string path)
    {
        WireType expected = f.Type == FieldType.Message ? WireType.LengthDelimited : ExpectedWire(f.Type);
        if (wire == expected)
        {
            return true;
        }
        Fail(XdsCodecError.WrongWireType, path, $"{f.Name}: wire type {wire}, declared {f.Type}");
        return false;
    }

    private ConfigScalar Number(string path, string text) => new(path, text, ScalarKind.Number, _order++);

    private ConfigScalar Text(string path, string text) => new(path, text, ScalarKind.String, _order++);

    private ConfigMap? Fail(XdsCodecError error, string path, string detail)
    {
        if (_error == XdsCodecError.None)
        {
            _error = error;
            _errorPath = path;
            _detail = detail;
        }
        return null;
    }

    private ConfigMap? FailWire(ProtoError wire, string path, string detail)
    {
        if (_error == XdsCodecError.None)
        {
            _wireError = wire;
        }
        return Fail(XdsCodecError.Malformed, path, detail);
    }
}
