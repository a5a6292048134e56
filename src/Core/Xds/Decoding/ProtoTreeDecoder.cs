using System.Buffers;
using System.Collections.Immutable;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Protobuf;
using Sidecar.Core.Xds.Schema;

namespace Sidecar.Core.Xds.Decoding;

/// <summary>
/// Turns a protobuf-encoded xDS resource into the same <see cref="ConfigNode"/> tree that
/// <see cref="JsonTreeReader"/> builds from the resource's proto3 JSON form with original (snake_case) field
/// names, so the static-config translators run on it unchanged. Fields come out in declaration order (as
/// proto3 JSON printers write them), scalars without presence only when not default, singular messages
/// merged when repeated on the wire, the last oneof member wins (protobuf.dev "Encoding": "Last One Wins").
/// Control-plane code, not the data path: it allocates the tree it returns and little else.
/// </summary>
public sealed partial class ProtoTreeDecoder
{
    private readonly XdsSchema _schema;
    private readonly XdsDecodeOptions _options;
    private List<UnknownField>? _unknown;
    private int _order;
    private XdsCodecError _error;
    private ProtoError _wireError;
    private string _errorPath = "";
    private string _detail = "";

    private ProtoTreeDecoder(XdsSchema schema, XdsDecodeOptions options)
    {
        _schema = schema;
        _options = options;
    }

    /// <summary>Decodes a resource given its type URL (as in a DiscoveryResponse's Any) into a tree rooted at <paramref name="rootPath"/>.</summary>
    public static XdsDecodeResult Decode(string typeUrl, ReadOnlySpan<byte> bytes, string rootPath = "", XdsDecodeOptions? options = null, XdsSchema? schema = null)
    {
        schema ??= XdsSchema.Envoy;
        if (schema.FindByTypeUrl(typeUrl) is not MessageDescriptor type)
        {
            return new XdsDecodeResult(null, XdsCodecError.UnknownResourceType, ProtoError.None, rootPath, typeUrl, []);
        }
        return Decode(type, bytes, rootPath, options, schema);
    }

    public static XdsDecodeResult Decode(MessageDescriptor type, ReadOnlySpan<byte> bytes, string rootPath = "", XdsDecodeOptions? options = null, XdsSchema? schema = null)
    {
        ProtoTreeDecoder d = new(schema ?? XdsSchema.Envoy, options ?? XdsDecodeOptions.Default);
        ConfigNode? tree = d.MessageValue(type, bytes, rootPath, 0);
        ImmutableArray<UnknownField> unknown = d._unknown is null ? [] : [.. d._unknown];
        return tree is null
            ? new XdsDecodeResult(null, d._error, d._wireError, d._errorPath, d._detail, unknown)
            : new XdsDecodeResult(tree, XdsCodecError.None, ProtoError.None, "", "", unknown);
    }

    /// <summary>A message in value position: the well-known types have their own JSON forms.</summary>
    private ConfigNode? MessageValue(MessageDescriptor md, ReadOnlySpan<byte> data, string path, int depth)
    {
        if (depth > _options.MaxDepth)
        {
            return Fail(XdsCodecError.TooDeep, path, $"more than {_options.MaxDepth} nested messages");
        }
        return md.WellKnown switch
        {
            WellKnownType.None => PlainMessage(md, data, path, depth, null, unwrap: false),
            WellKnownType.Any => AnyValue(data, path, depth),
            WellKnownType.Duration or WellKnownType.Timestamp => TimeValue(md.WellKnown, data, path),
            WellKnownType.Wrapper => WrapperValue(md, data, path),
            WellKnownType.Struct or WellKnownType.Value or WellKnownType.ListValue => JsonValue(md.WellKnown, data, path, depth),
            _ => FieldMaskValue(data, path),
        };
    }

    /// <summary>
    /// An ordinary message: one pass records where each field occurs, then fields are emitted in declaration
    /// order. <paramref name="anyType"/>, when set, is written first as "@type" (the Any JSON form).
    /// </summary>
    /// <remarks>
    /// With <paramref name="unwrap"/> the message is not a map: its one present field is returned at the
    /// message's own path (Struct, ListValue and Value print as their content), or null with no error when
    /// nothing is set.
    /// </remarks>
    private ConfigNode? PlainMessage(MessageDescriptor md, ReadOnlySpan<byte> data, string path, int depth, string? anyType, bool unwrap)
    {
        Occurrence[] occ = ArrayPool<Occurrence>.Shared.Rent(16);
        int count = 0;
        try
        {
            ProtoReader r = new(data);
            while (r.TryReadTag(out int number, out WireType wire))
            {
                int index = md.IndexOf(number);
                if (!TryReadValue(ref r, wire, out int start, out int length, out ulong value))
                {
                    break;
                }
                if (index < 0)
                {
                    (_unknown ??= []).Add(new UnknownField(md.FullName, number, path));
                    continue;
                }
                if (count == occ.Length)
                {
                    Occurrence[] bigger = ArrayPool<Occurrence>.Shared.Rent(occ.Length * 2);
                    occ.AsSpan(0, count).CopyTo(bigger);
                    ArrayPool<Occurrence>.Shared.Return(occ);
                    occ = bigger;
                }
                occ[count++] = new Occurrence(index, wire, start, length, value);
            }
            if (r.Error != ProtoError.None)
            {
                return FailWire(r.Error, path, md.FullName);
            }
            return Emit(md, data, occ.AsSpan(0, count), path, depth, anyType, unwrap);
        }
        finally
        {
            ArrayPool<Occurrence>.Shared.Return(occ);
        }
    }

    private ConfigNode? Emit(MessageDescriptor md, ReadOnlySpan<byte> data, ReadOnlySpan<Occurrence> occ, string path, int depth, string? anyType, bool unwrap)
    {
        int self = unwrap ? 0 : _order++;
        // The winning member of each oneof is the one seen last on the wire.
        Span<int> oneofWinner = md.Oneofs.Length <= 16 ? stackalloc int[md.Oneofs.Length] : new int[md.Oneofs.Length];
        oneofWinner.Fill(-1);
        foreach (Occurrence o in occ)
        {
            if (md.Fields[o.Field].OneofIndex is int k && k >= 0)
            {
                oneofWinner[k] = o.Field;
            }
        }
        ImmutableArray<KeyValuePair<string, ConfigNode>>.Builder entries = ImmutableArray.CreateBuilder<KeyValuePair<string, ConfigNode>>();
        if (anyType is not null)
        {
            entries.Add(new("@type", new ConfigScalar(ConfigNode.ChildPath(path, "@type"), anyType, ScalarKind.String, _order++)));
        }
        for (int i = 0; i < md.Fields.Length; i++)
        {
            FieldDescriptor f = md.Fields[i];
            if (f.OneofIndex >= 0 && oneofWinner[f.OneofIndex] != i)
            {
                continue;
            }
            int first = -1;
            int last = -1;
            for (int j = 0; j < occ.Length; j++)
            {
                if (occ[j].Field == i)
                {
                    first = first < 0 ? j : first;
                    last = j;
                }
            }
            if (first < 0)
            {
                continue;
            }
            string fieldPath = unwrap ? path : ConfigNode.ChildPath(path, f.Name);
            ConfigNode? node = f.IsMap ? MapField(f, data, occ, i, fieldPath, depth)
                : f.IsRepeated ? RepeatedField(f, data, occ, i, fieldPath, depth)
                : SingularField(f, data, occ, i, first, last, fieldPath, depth, out bool omit) is { } n && !omit ? n : null;
            if (_error != XdsCodecError.None)
            {
                return null;
            }
            if (unwrap)
            {
                return node;
            }
            if (node is not null)
            {
                entries.Add(new(f.Name, node));
            }
        }
        return unwrap ? null : new ConfigMap(path, entries.ToImmutable(), self);
    }

    private ConfigNode? SingularField(FieldDescriptor f, ReadOnlySpan<byte> data, ReadOnlySpan<Occurrence> occ, int index, int first, int last, string path, int depth, out bool omit)
    {
        omit = false;
        Occurrence o = occ[last];
        if (f.Type == FieldType.Message)
        {
            if (!CheckWire(f, o.Wire, path))
            {
                return null;
            }
            if (first == last)
            {
                return MessageValue(f.Message!, data.Slice(o.Start, o.Length), path, depth + 1);
            }
            // A singular message seen several times is the merge of all of them, which is exactly what
            // decoding the concatenation yields (protobuf.dev "Encoding": "Last One Wins" / merging).
            ArrayBufferWriter<byte> merged = new();
            foreach (Occurrence each in occ[first..(last + 1)])
            {
                if (each.Field == index)
                {
                    if (!CheckWire(f, each.Wire, path))
                    {
                        return null;
                    }
                    merged.Write(data.Slice(each.Start, each.Length));
                }
            }
            return MessageValue(f.Message!, merged.WrittenSpan, path, depth + 1);
        }
        if (f.IsPackable && o.Wire == WireType.LengthDelimited)
        {
            return Fail(XdsCodecError.WrongWireType, path, "packed encoding on a singular field");
        }
        if (!CheckWire(f, o.Wire, path))
        {
            return null;
        }
        if (!f.HasExplicitPresence && IsDefault(f.Type, o, data))
        {
            omit = true;
            return null;
        }
        return ScalarValue(f.Type, f.Enum, o, data, path);
    }

    private ConfigList? RepeatedField(FieldDescriptor f, ReadOnlySpan<byte> data, ReadOnlySpan<Occurrence> occ, int index, string path, int depth)
    {
        int self = _order++;
        ImmutableArray<ConfigNode>.Builder items = ImmutableArray.CreateBuilder<ConfigNode>();
        foreach (Occurrence o in occ)
        {
            if (o.Field != index)
            {
                continue;
            }
            if (f.IsPackable && o.Wire == WireType.LengthDelimited)
            {
                // Packed: one length-delimited run of values without tags (accepted whatever the declaration says).
                if (!ReadPacked(f, data.Slice(o.Start, o.Length), path, items))
                {
                    return null;
                }
                continue;
            }
            if (!CheckWire(f, o.Wire, path))
            {
                return null;
            }
            string itemPath = ConfigNode.ItemPath(path, items.Count);
            ConfigNode? item = f.Type == FieldType.Message
                ? MessageValue(f.Message!, data.Slice(o.Start, o.Length), itemPath, depth + 1)
                : ScalarValue(f.Type, f.Enum, o, data, itemPath);
            if (item is null)
            {
                return null;
            }
            items.Add(item);
        }
        return new ConfigList(path, items.ToImmutable(), self);
    }

    private bool ReadPacked(FieldDescriptor f, ReadOnlySpan<byte> run, string path, ImmutableArray<ConfigNode>.Builder items)
    {
        WireType element = ExpectedWire(f.Type);
        ProtoReader r = new(run);
        while (!r.End)
        {
            ulong value = 0;
            bool ok = element switch
            {
                WireType.Varint => r.TryReadVarint(out value),
                WireType.Fixed64 => r.TryReadFixed64(out value),
                _ => ReadFixed32(ref r, out value),
            };
            if (!ok)
            {
                FailWire(r.Error, path, "packed " + f.Name);
                return false;
            }
            items.Add(ScalarValue(f.Type, f.Enum, new Occurrence(0, element, 0, 0, value), default, ConfigNode.ItemPath(path, items.Count))!);
        }
        return true;
    }

    private static bool ReadFixed32(ref ProtoReader r, out ulong value)
    {
        bool ok = r.TryReadFixed32(out uint v);
        value = v;
        return ok;
    }

    /// <summary>Reads one field's value: a number (varint or fixed bits) or where a length-delimited payload lies.</summary>
    private static bool TryReadValue(ref ProtoReader r, WireType wire, out int start, out int length, out ulong value)
    {
        start = r.Position;
        length = 0;
        value = 0;
        return wire switch
        {
            WireType.Varint => r.TryReadVarint(out value),
            WireType.Fixed64 => r.TryReadFixed64(out value),
            WireType.Fixed32 => ReadFixed32(ref r, out value),
            _ => ReadLength(ref r, out start, out length),
        };
    }

    /// <summary>Reads a length-delimited payload and reports where it starts in the message's bytes.</summary>
    private static bool ReadLength(ref ProtoReader r, out int start, out int length)
    {
        start = 0;
        length = 0;
        if (!r.TryReadBytes(out ReadOnlySpan<byte> bytes))
        {
            return false;
        }
        length = bytes.Length;
        start = r.Position - length;
        return true;
    }

    /// <summary>Where a field's value is: the bytes of a length-delimited payload, or the already-read number.</summary>
    private readonly record struct Occurrence(int Field, WireType Wire, int Start, int Length, ulong Value);
}
