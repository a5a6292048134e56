using System.Buffers.Binary;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Protobuf;
using Sidecar.Core.Xds.Schema;

namespace Sidecar.Core.Xds.Decoding;

/// <summary>Scalars and the well-known types' JSON forms, from the tree to the wire.</summary>
public sealed partial class ProtoTreeEncoder
{
    private bool ScalarAt(int number, FieldType type, EnumDescriptor? enumType, ConfigNode node, ProtoWriter w, bool omitDefault)
    {
        if (!TryScalarBits(type, enumType, node, out ulong bits, out string? text, out byte[]? bytes))
        {
            return false;
        }
        switch (type)
        {
            case FieldType.String:
                if (!omitDefault || text!.Length > 0)
                {
                    w.WriteString(number, text!);
                }
                return true;
            case FieldType.Bytes:
                if (!omitDefault || bytes!.Length > 0)
                {
                    w.WriteBytes(number, bytes);
                }
                return true;
        }
        if (omitDefault && bits == 0)
        {
            return true;
        }
        switch (Decoding.ProtoTreeDecoder.ExpectedWire(type))
        {
            case WireType.Fixed64:
                w.WriteFixed64(number, bits);
                break;
            case WireType.Fixed32:
                w.WriteFixed32(number, (uint)bits);
                break;
            default:
                w.WriteUInt64(number, bits);
                break;
        }
        return true;
    }

    /// <summary>One element of a packed run: the value only, no tag.</summary>
    private bool PackedValue(FieldDescriptor f, ConfigNode node, ProtoWriter w)
    {
        if (!TryScalarBits(f.Type, f.Enum, node, out ulong bits, out _, out _))
        {
            return false;
        }
        Span<byte> fixedBytes = stackalloc byte[8];
        switch (Decoding.ProtoTreeDecoder.ExpectedWire(f.Type))
        {
            case WireType.Fixed64:
                BinaryPrimitives.WriteUInt64LittleEndian(fixedBytes, bits);
                w.WriteRaw(fixedBytes);
                break;
            case WireType.Fixed32:
                BinaryPrimitives.WriteUInt32LittleEndian(fixedBytes, (uint)bits);
                w.WriteRaw(fixedBytes[..4]);
                break;
            default:
                w.WriteVarint(bits);
                break;
        }
        return true;
    }

    /// <summary>
    /// The wire value of a scalar: <paramref name="bits"/> for numbers (varint payload or fixed bits),
    /// <paramref name="text"/> for strings, <paramref name="bytes"/> for bytes. Range-checked per type.
    /// </summary>
    private bool TryScalarBits(FieldType type, EnumDescriptor? enumType, ConfigNode node, out ulong bits, out string? text, out byte[]? bytes)
    {
        bits = 0;
        text = null;
        bytes = null;
        switch (type)
        {
            case FieldType.String:
                if (node is ConfigScalar { Kind: ScalarKind.String } s)
                {
                    text = s.Text;
                    return true;
                }
                return Fail(XdsCodecError.BadValue, node, "expected a string");
            case FieldType.Bytes:
                if (node is ConfigScalar { Kind: ScalarKind.String } b && TryBase64(b.Text, out bytes))
                {
                    return true;
                }
                return Fail(XdsCodecError.BadValue, node, "expected base64 bytes");
            case FieldType.Bool:
                if (node is ConfigScalar { Kind: ScalarKind.Bool } t)
                {
                    bits = t.Text.Equals("true", StringComparison.OrdinalIgnoreCase) ? 1u : 0u;
                    return true;
                }
                return Fail(XdsCodecError.BadValue, node, "expected true or false");
            case FieldType.Double or FieldType.Float:
                if (node is ConfigScalar { Kind: ScalarKind.Number or ScalarKind.String } d && WellKnownJson.TryParseDouble(d.Text, out double dv))
                {
                    bits = type == FieldType.Double ? BitConverter.DoubleToUInt64Bits(dv) : BitConverter.SingleToUInt32Bits((float)dv);
                    return true;
                }
                return Fail(XdsCodecError.BadValue, node, "expected a number");
            case FieldType.Enum:
                if (node is ConfigScalar { Kind: ScalarKind.String } en && enumType is not null && enumType.TryGetNumber(en.Text, out int number))
                {
                    bits = (ulong)(long)number;
                    return true;
                }
                if (node is ConfigScalar { Kind: ScalarKind.Number } && TryInteger(node, out long raw, out _, out bool big) && !big && raw is >= int.MinValue and <= int.MaxValue)
                {
                    bits = (ulong)raw;
                    return true;
                }
                return Fail(XdsCodecError.BadValue, node, $"not a value of {enumType?.FullName}");
        }
        if (!TryInteger(node, out long v, out ulong u, out bool unsignedOnly))
        {
            return Fail(XdsCodecError.BadValue, node, "expected an integer");
        }
        bool inRange = type switch
        {
            FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => !unsignedOnly && v is >= int.MinValue and <= int.MaxValue,
            FieldType.UInt32 or FieldType.Fixed32 => !unsignedOnly && v is >= 0 and <= uint.MaxValue,
            FieldType.UInt64 or FieldType.Fixed64 => unsignedOnly || v >= 0,
            _ => !unsignedOnly,
        };
        if (!inRange)
        {
            return Fail(XdsCodecError.BadValue, node, $"integer out of range for {type}");
        }
        bits = type switch
        {
            FieldType.SInt32 or FieldType.SInt64 => ProtoWriter.EncodeZigZag(v),
            FieldType.SFixed32 => (uint)(int)v,
            FieldType.UInt64 or FieldType.Fixed64 => u,
            _ => (ulong)v,
        };
        return true;
    }

    /// <summary>Any: "@type" picks the message; the other keys are its fields, or "value" for well-known payloads.</summary>
    private bool AnyBody(ConfigNode node, ProtoWriter w, int depth)
    {
        if (node is ConfigMap { Entries.IsEmpty: true })
        {
            return true; // {} is the unset Any: no type_url, no value
        }
        if (node is not ConfigMap map || map.Get("@type") is not ConfigScalar { Kind: ScalarKind.String } typeNode)
        {
            return Fail(XdsCodecError.BadAny, node, "an Any needs \"@type\"");
        }
        string typeUrl = typeNode.Text;
        w.WriteString(1, typeUrl);
        if (map.Get("@opaque") is ConfigScalar { Kind: ScalarKind.String } opaque)
        {
            // The decoder's rendering of an Any it did not know: written back byte for byte.
            if (!TryBase64(opaque.Text, out byte[]? raw))
            {
                return Fail(XdsCodecError.BadValue, opaque, "expected base64 bytes");
            }
            w.WriteBytes(2, raw);
            return true;
        }
        if (_schema.FindByTypeUrl(typeUrl) is not MessageDescriptor inner)
        {
            return Fail(XdsCodecError.UnknownAnyType, node, typeUrl);
        }
        int mark = w.BeginMessage(2);
        bool ok = inner.WellKnown == WellKnownType.None
            ? depth + 1 <= MaxDepth ? PlainBody(inner, map, w, depth + 1, skipType: true) : Fail(XdsCodecError.TooDeep, node, "too deep")
            : map.Get("value") is ConfigNode value ? MessageBody(inner, value, w, depth + 1) : Fail(XdsCodecError.BadAny, node, "well-known Any needs \"value\"");
        if (!ok)
        {
            return false;
        }
        w.EndMessage(mark);
        return true;
    }

    private bool TimeBody(ConfigNode node, ProtoWriter w, bool duration)
    {
        if (node is not ConfigScalar { Kind: ScalarKind.String } s)
        {
            return Fail(XdsCodecError.BadValue, node, duration ? "expected a duration like \"1.5s\"" : "expected an RFC 3339 timestamp");
        }
        bool ok = duration ? WellKnownJson.TryParseDuration(s.Text, out long seconds, out int nanos) : WellKnownJson.TryParseTimestamp(s.Text, out seconds, out nanos);
        if (!ok)
        {
            return Fail(XdsCodecError.BadValue, node, duration ? "expected a duration like \"1.5s\"" : "expected an RFC 3339 timestamp");
        }
        if (seconds != 0)
        {
            w.WriteInt64(1, seconds);
        }
        if (nanos != 0)
        {
            w.WriteInt64(2, nanos);
        }
        return true;
    }

    private bool StructBody(ConfigNode node, ProtoWriter w, int depth)
    {
        if (node is not ConfigMap map)
        {
            return Fail(XdsCodecError.BadValue, node, "expected an object (Struct)");
        }
        foreach (KeyValuePair<string, ConfigNode> e in map.Entries)
        {
            int entry = w.BeginMessage(1);
            w.WriteString(1, e.Key);
            int value = w.BeginMessage(2);
            if (!ValueBody(e.Value, w, depth + 1))
            {
                return false;
            }
            w.EndMessage(value);
            w.EndMessage(entry);
        }
        return true;
    }

    private bool ListBody(ConfigNode node, ProtoWriter w, int depth)
    {
        if (node is not ConfigList list)
        {
            return Fail(XdsCodecError.BadValue, node, "expected a list (ListValue)");
        }
        foreach (ConfigNode item in list.Items)
        {
            int mark = w.BeginMessage(1);
            if (!ValueBody(item, w, depth + 1))
            {
                return false;
            }
            w.EndMessage(mark);
        }
        return true;
    }

    /// <summary>Value: null → null_value(1), number → number_value(2), string(3), bool(4), object → struct_value(5), list(6).</summary>
    private bool ValueBody(ConfigNode node, ProtoWriter w, int depth)
    {
        if (depth > MaxDepth)
        {
            return Fail(XdsCodecError.TooDeep, node, $"more than {MaxDepth} nested values");
        }
        switch (node)
        {
            case ConfigMap:
            {
                int mark = w.BeginMessage(5);
                if (!StructBody(node, w, depth + 1))
                {
                    return false;
                }
                w.EndMessage(mark);
                return true;
            }
            case ConfigList:
            {
                int mark = w.BeginMessage(6);
                if (!ListBody(node, w, depth + 1))
                {
                    return false;
                }
                w.EndMessage(mark);
                return true;
            }
            case ConfigScalar { Kind: ScalarKind.Null }:
                w.WriteUInt64(1, 0);
                return true;
            case ConfigScalar { Kind: ScalarKind.Bool } b:
                w.WriteBool(4, b.Text.Equals("true", StringComparison.OrdinalIgnoreCase));
                return true;
            case ConfigScalar { Kind: ScalarKind.Number } n when WellKnownJson.TryParseDouble(n.Text, out double d):
                w.WriteDouble(2, d);
                return true;
            case ConfigScalar s:
                w.WriteString(3, s.Text);
                return true;
        }
        return Fail(XdsCodecError.BadValue, node, "not a JSON value");
    }

    private bool FieldMaskBody(ConfigNode node, ProtoWriter w)
    {
        if (node is not ConfigScalar { Kind: ScalarKind.String } s)
        {
            return Fail(XdsCodecError.BadValue, node, "expected a field mask string");
        }
        foreach (string path in s.Text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            w.WriteString(1, Config.Translation.FieldReader.ToSnakeCase(path));
        }
        return true;
    }

    /// <summary>proto3 JSON bytes: standard or URL-safe base64, padding optional.</summary>
    private static bool TryBase64(string text, out byte[]? bytes)
    {
        string normal = text.Replace('-', '+').Replace('_', '/');
        int pad = (4 - (normal.Length % 4)) % 4;
        if (pad == 3)
        {
            bytes = null;
            return false;
        }
        normal += new string('=', pad);
        bytes = new byte[normal.Length / 4 * 3];
        if (Convert.TryFromBase64String(normal, bytes, out int written))
        {
            Array.Resize(ref bytes, written);
            return true;
        }
        bytes = null;
        return false;
    }
}
