using System.Collections.Immutable;
using System.Net;
using System.Text.Unicode;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Protobuf;

namespace Sidecar.Core.Xds.Decoding;

/// <summary>
/// The bulk xDS type read straight from protobuf into the model: a <c>ClusterLoadAssignment</c> (EDS) becomes the
/// localities of the STATIC cluster an EDS cluster is translated into, without building the generic config tree
/// (100,000 endpoints are 100,000 subtrees with a path string per node there).
/// </summary>
/// <remarks>
/// Not a second semantic path: it reads only the shape the tree path accepts without any error or note — socket
/// addresses that are IP literals, weights, priorities, localities, endpoint metadata — and gives up on anything
/// else (a field it does not read, a value out of range, an explicitly encoded default it cannot tell apart, a
/// singular field repeated on the wire). The caller then runs the generic path (ProtoTreeDecoder +
/// LoadAssignmentTranslator), which produces the model or the precise error. LoadAssignmentDecoderTests checks
/// that both give equal models. Field numbers: envoy/config/endpoint/v3/endpoint.proto, endpoint_components.proto,
/// envoy/config/core/v3/address.proto, base.proto, google/protobuf/struct.proto and wrappers.proto.
/// </remarks>
public sealed class LoadAssignmentDecoder
{
    /// <summary>Struct nesting the fast path accepts in metadata it does not read (deeper goes to the tree path).</summary>
    private const int MaxStructDepth = 8;

    /// <summary>Keys per metadata Struct checked for duplicates on the fast path (more goes to the tree path).</summary>
    private const int MaxStructKeys = 16;

    private const int MaxPriority = 128; // LoadAssignmentTranslator: priority in [0, 128]

    /// <summary>Interned strings kept at most; past it the pool starts again (it only saves memory, never decides anything).</summary>
    private const int MaxInterned = 65_536;

    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private byte[] _lastMatchBytes = [];
    private ImmutableDictionary<string, string> _lastMatch = ImmutableDictionary<string, string>.Empty;

    /// <summary>
    /// Reads <paramref name="bytes"/> (a serialized ClusterLoadAssignment); false when the resource is not in the
    /// shape read here and the generic path must decide (nothing is reported: that path gives the reason).
    /// </summary>
    public bool TryDecode(ReadOnlySpan<byte> bytes, out ImmutableArray<LocalityEndpointsModel> localities)
    {
        localities = [];
        var builder = ImmutableArray.CreateBuilder<LocalityEndpointsModel>();
        bool seenName = false;
        ProtoReader r = new(bytes);
        while (r.TryReadTag(out int field, out WireType wire))
        {
            if (wire != WireType.LengthDelimited || !r.TryReadBytes(out ReadOnlySpan<byte> value)) return false;
            switch (field)
            {
                case 1 when !seenName: // cluster_name: read by the translator, not kept
                    seenName = true;
                    if (!Utf8.IsValid(value)) return false;
                    break;
                case 2: // endpoints (LocalityLbEndpoints)
                    if (!TryLocality(value, out LocalityEndpointsModel? locality)) return false;
                    builder.Add(locality!);
                    break;
                default: // policy, named_endpoints, unknown fields
                    return false;
            }
        }
        if (r.Error != ProtoError.None) return false;
        localities = builder.ToImmutable();
        return true;
    }

    private bool TryLocality(ReadOnlySpan<byte> data, out LocalityEndpointsModel? model)
    {
        model = null;
        string region = "", zone = "", subZone = "";
        int weight = 1, priority = 0;
        bool seenLocality = false, seenWeight = false, seenPriority = false;
        var endpoints = ImmutableArray.CreateBuilder<EndpointModel>();
        ProtoReader r = new(data);
        while (r.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 1 when wire == WireType.LengthDelimited && !seenLocality: // locality
                    seenLocality = true;
                    if (!r.TryReadBytes(out ReadOnlySpan<byte> loc) || !TryLocalityName(loc, out region, out zone, out subZone)) return false;
                    break;
                case 2 when wire == WireType.LengthDelimited: // lb_endpoints
                    if (!r.TryReadBytes(out ReadOnlySpan<byte> lb) || !TryLbEndpoint(lb, out EndpointModel? endpoint)) return false;
                    endpoints.Add(endpoint!);
                    break;
                case 3 when wire == WireType.LengthDelimited && !seenWeight: // load_balancing_weight (UInt32Value), [1, int.MaxValue]
                    seenWeight = true;
                    if (!r.TryReadBytes(out ReadOnlySpan<byte> w) || !TryWeight(w, out weight)) return false;
                    break;
                case 5 when wire == WireType.Varint && !seenPriority: // priority
                    seenPriority = true;
                    if (!r.TryReadVarint(out ulong p) || p > MaxPriority) return false;
                    priority = (int)p;
                    break;
                default: // metadata, proximity, load_balancer_endpoints, leds_cluster_locality_config, unknown fields
                    return false;
            }
        }
        if (r.Error != ProtoError.None) return false;
        model = new LocalityEndpointsModel { Region = region, Zone = zone, SubZone = subZone, Weight = weight, Priority = priority, Endpoints = endpoints.ToImmutable() };
        return true;
    }

    /// <summary>core.v3.Locality: region = 1, zone = 2, sub_zone = 3 (each at most once here).</summary>
    private bool TryLocalityName(ReadOnlySpan<byte> data, out string region, out string zone, out string subZone)
    {
        region = zone = subZone = "";
        int seen = 0;
        ProtoReader r = new(data);
        while (r.TryReadTag(out int field, out WireType wire))
        {
            if (field is < 1 or > 3 || wire != WireType.LengthDelimited || (seen & (1 << field)) != 0) return false;
            seen |= 1 << field;
            if (!r.TryReadBytes(out ReadOnlySpan<byte> text) || Intern(text) is not string s) return false;
            if (field == 1) region = s;
            else if (field == 2) zone = s;
            else subZone = s;
        }
        return r.Error == ProtoError.None;
    }

    /// <summary>LbEndpoint: endpoint = 1, metadata = 3, load_balancing_weight = 4; endpoint_name and a health_status go to the tree path.</summary>
    private bool TryLbEndpoint(ReadOnlySpan<byte> data, out EndpointModel? model)
    {
        model = null;
        string? host = null;
        IPAddress? address = null;
        int port = 0, weight = 1;
        ImmutableDictionary<string, string> match = ImmutableDictionary<string, string>.Empty;
        bool seenMetadata = false, seenWeight = false;
        ProtoReader r = new(data);
        while (r.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 1 when wire == WireType.LengthDelimited && host is null: // endpoint
                    if (!r.TryReadBytes(out ReadOnlySpan<byte> e) || !TryEndpoint(e, out host, out address, out port)) return false;
                    break;
                case 2 when wire == WireType.Varint: // health_status: UNKNOWN (0) is the default the tree path omits
                    if (!r.TryReadVarint(out ulong status) || status != 0) return false;
                    break;
                case 3 when wire == WireType.LengthDelimited && !seenMetadata: // metadata
                    seenMetadata = true;
                    if (!r.TryReadBytes(out ReadOnlySpan<byte> md) || !TryMetadata(md, out match)) return false;
                    break;
                case 4 when wire == WireType.LengthDelimited && !seenWeight: // load_balancing_weight (UInt32Value)
                    seenWeight = true;
                    if (!r.TryReadBytes(out ReadOnlySpan<byte> w) || !TryWeight(w, out weight)) return false;
                    break;
                default:
                    return false;
            }
        }
        // "endpoint is required": the tree path reports it.
        if (r.Error != ProtoError.None || host is null) return false;
        model = new EndpointModel { Host = host, Port = port, Address = address, Weight = weight, TransportSocketMatch = match };
        return true;
    }

    /// <summary>Endpoint: address = 1 (Address.socket_address = 1), hostname = 3 (accepted, not kept).</summary>
    private static bool TryEndpoint(ReadOnlySpan<byte> data, out string? host, out IPAddress? address, out int port)
    {
        host = null;
        address = null;
        port = 0;
        bool seenHostname = false;
        ReadOnlySpan<byte> socket = default;
        bool seenAddress = false;
        ProtoReader r = new(data);
        while (r.TryReadTag(out int field, out WireType wire))
        {
            if (wire != WireType.LengthDelimited || !r.TryReadBytes(out ReadOnlySpan<byte> value)) return false;
            if (field == 1 && !seenAddress)
            {
                seenAddress = true;
                // Address is a oneof; only socket_address (1), once, is read here.
                ProtoReader a = new(value);
                if (!a.TryReadTag(out int f, out WireType w) || f != 1 || w != WireType.LengthDelimited || !a.TryReadBytes(out socket) || !a.End) return false;
            }
            else if (field == 3 && !seenHostname)
            {
                seenHostname = true;
                if (!Utf8.IsValid(value)) return false;
            }
            else
            {
                return false; // health_check_config, additional_addresses, unknown fields
            }
        }
        return r.Error == ProtoError.None && seenAddress && TrySocketAddress(socket, out host, out address, out port);
    }

    /// <summary>
    /// SocketAddress: protocol = 1 (TCP, 0, only), address = 2, port_value = 3 in [1, 65535]. STATIC clusters (what an
    /// EDS cluster becomes) need IP literals; a name goes to the tree path, which reports it.
    /// </summary>
    private static bool TrySocketAddress(ReadOnlySpan<byte> data, out string? host, out IPAddress? address, out int port)
    {
        host = null;
        address = null;
        port = 0;
        bool seenProtocol = false;
        ProtoReader r = new(data);
        while (r.TryReadTag(out int field, out WireType wire))
        {
            switch (field)
            {
                case 1 when wire == WireType.Varint && !seenProtocol:
                    seenProtocol = true;
                    if (!r.TryReadVarint(out ulong protocol) || protocol != 0) return false;
                    break;
                case 2 when wire == WireType.LengthDelimited && host is null:
                    if (!r.TryReadString(out string text) || text.Length == 0) return false;
                    host = text;
                    break;
                case 3 when wire == WireType.Varint && port == 0:
                    if (!r.TryReadVarint(out ulong p) || p is 0 or > 65535) return false;
                    port = (int)p;
                    break;
                default:
                    return false;
            }
        }
        if (r.Error != ProtoError.None || host is null || port == 0 || !IPAddress.TryParse(host, out address)) return false;
        return true;
    }

    /// <summary>UInt32Value { value = 1 } as a load balancing weight in [1, int.MaxValue].</summary>
    private static bool TryWeight(ReadOnlySpan<byte> data, out int weight)
    {
        weight = 0;
        ProtoReader r = new(data);
        if (!r.TryReadTag(out int field, out WireType wire) || field != 1 || wire != WireType.Varint || !r.TryReadVarint(out ulong v) || !r.End) return false;
        if (v is 0 or > int.MaxValue) return false;
        weight = (int)v;
        return true;
    }

    /// <summary>
    /// Metadata: filter_metadata = 1 (map&lt;string, Struct&gt;). Only <c>envoy.transport_socket_match</c> acts (its
    /// values must be strings); other namespaces (Istio's <c>istio</c>) are checked to be plain Structs the tree path
    /// would decode too, then not read. typed_filter_metadata goes to the tree path.
    /// </summary>
    private bool TryMetadata(ReadOnlySpan<byte> data, out ImmutableDictionary<string, string> match)
    {
        match = ImmutableDictionary<string, string>.Empty;
        var entries = new DistinctEntries(data, stackalloc Range[MaxStructKeys]);
        while (entries.Next(out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value))
        {
            if (key.SequenceEqual("envoy.transport_socket_match"u8))
            {
                if (!TryStringStruct(value, out match)) return false;
            }
            else if (!IsPlainStruct(value, 1))
            {
                return false;
            }
        }
        return !entries.Failed;
    }

    /// <summary>A map entry: key = 1 (a valid UTF-8 string, not empty), value = 2 (present), each once.</summary>
    private static bool TryMapEntry(ReadOnlySpan<byte> entry, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value, out int keyOffset)
    {
        key = value = default;
        keyOffset = -1;
        bool seenValue = false;
        ProtoReader r = new(entry);
        while (r.TryReadTag(out int field, out WireType wire))
        {
            if (wire != WireType.LengthDelimited) return false;
            if (field == 1 && keyOffset < 0)
            {
                if (!r.TryReadBytes(out key)) return false;
                keyOffset = r.Position - key.Length;
            }
            else if (field == 2 && !seenValue)
            {
                seenValue = true;
                if (!r.TryReadBytes(out value)) return false;
            }
            else
            {
                return false;
            }
        }
        return r.Error == ProtoError.None && keyOffset >= 0 && key.Length > 0 && seenValue && Utf8.IsValid(key);
    }

    /// <summary>
    /// The entries of a map field (field 1: Metadata.filter_metadata, Struct.fields), each key at most once — a repeated
    /// key is left to the tree path — and at most <see cref="MaxStructKeys"/> of them.
    /// </summary>
    private ref struct DistinctEntries
    {
        private readonly ReadOnlySpan<byte> _data;
        private readonly Span<Range> _keys;
        private ProtoReader _reader;
        private int _count;

        public DistinctEntries(ReadOnlySpan<byte> data, Span<Range> keys)
        {
            _data = data;
            _keys = keys;
            _reader = new ProtoReader(data);
        }

        /// <summary>True when <see cref="Next"/> stopped on something the fast path does not take.</summary>
        public bool Failed { get; private set; }

        public bool Next(out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
        {
            key = value = default;
            if (!_reader.TryReadTag(out int field, out WireType wire))
            {
                Failed = _reader.Error != ProtoError.None;
                return false;
            }
            if (field != 1 || wire != WireType.LengthDelimited || !_reader.TryReadBytes(out ReadOnlySpan<byte> entry)
                || !TryMapEntry(entry, out key, out value, out int keyOffset) || _count == _keys.Length)
            {
                Failed = true;
                return false;
            }
            int start = _reader.Position - entry.Length + keyOffset;
            for (int i = 0; i < _count; i++)
            {
                if (_data[_keys[i]].SequenceEqual(key))
                {
                    Failed = true;
                    return false;
                }
            }
            _keys[_count++] = new Range(start, start + key.Length);
            return true;
        }
    }

    /// <summary>A Struct whose values are all non-empty strings, as a dictionary (one instance per distinct content).</summary>
    private bool TryStringStruct(ReadOnlySpan<byte> data, out ImmutableDictionary<string, string> result)
    {
        result = ImmutableDictionary<string, string>.Empty;
        if (data.SequenceEqual(_lastMatchBytes))
        {
            result = _lastMatch;
            return true;
        }
        var b = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var entries = new DistinctEntries(data, stackalloc Range[MaxStructKeys]);
        while (entries.Next(out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value))
        {
            // Value { string_value = 3 } alone; other kinds are refused by the tree path ("values other than strings").
            ProtoReader v = new(value);
            if (!v.TryReadTag(out int vf, out WireType vw) || vf != 3 || vw != WireType.LengthDelimited || !v.TryReadBytes(out ReadOnlySpan<byte> text) || !v.End) return false;
            if (text.IsEmpty || Intern(key) is not string k || Intern(text) is not string t) return false;
            b[k] = t;
        }
        if (entries.Failed) return false;
        result = b.ToImmutable();
        _lastMatchBytes = data.ToArray();
        _lastMatch = result;
        return true;
    }

    /// <summary>
    /// Whether a Struct (fields = 1, map&lt;string, Value&gt;) holds only strings, booleans, nulls, Structs and lists of
    /// those, with distinct keys, nested at most <see cref="MaxStructDepth"/> deep: what the tree path decodes without
    /// a question. Numbers (NaN and infinities have no JSON form) and anything odd go to the tree path.
    /// </summary>
    private static bool IsPlainStruct(ReadOnlySpan<byte> data, int depth)
    {
        if (depth > MaxStructDepth) return false;
        var entries = new DistinctEntries(data, stackalloc Range[MaxStructKeys]);
        while (entries.Next(out _, out ReadOnlySpan<byte> value))
        {
            if (!IsPlainValue(value, depth)) return false;
        }
        return !entries.Failed;
    }

    /// <summary>Value: exactly one of null_value = 1 (0), string_value = 3, bool_value = 4, struct_value = 5, list_value = 6.</summary>
    private static bool IsPlainValue(ReadOnlySpan<byte> data, int depth)
    {
        ProtoReader r = new(data);
        if (!r.TryReadTag(out int field, out WireType wire)) return false;
        bool ok = (field, wire) switch
        {
            (1, WireType.Varint) => r.TryReadVarint(out ulong n) && n == 0,
            (3, WireType.LengthDelimited) => r.TryReadBytes(out ReadOnlySpan<byte> s) && Utf8.IsValid(s),
            (4, WireType.Varint) => r.TryReadVarint(out ulong b) && b <= 1,
            (5, WireType.LengthDelimited) => r.TryReadBytes(out ReadOnlySpan<byte> st) && IsPlainStruct(st, depth + 1),
            (6, WireType.LengthDelimited) => r.TryReadBytes(out ReadOnlySpan<byte> l) && IsPlainList(l, depth + 1),
            _ => false,
        };
        return ok && r.End;
    }

    /// <summary>ListValue: values = 1 (repeated Value).</summary>
    private static bool IsPlainList(ReadOnlySpan<byte> data, int depth)
    {
        if (depth > MaxStructDepth) return false;
        ProtoReader r = new(data);
        while (r.TryReadTag(out int field, out WireType wire))
        {
            if (field != 1 || wire != WireType.LengthDelimited || !r.TryReadBytes(out ReadOnlySpan<byte> value) || !IsPlainValue(value, depth)) return false;
        }
        return r.Error == ProtoError.None;
    }

    /// <summary>One string instance per distinct value (locality names repeat across thousands of endpoints); null on bad UTF-8.</summary>
    private string? Intern(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty) return "";
        if (!Utf8.IsValid(utf8)) return null;
        Span<char> chars = utf8.Length <= 256 ? stackalloc char[utf8.Length] : new char[utf8.Length];
        int n = System.Text.Encoding.UTF8.GetChars(utf8, chars);
        Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(chars[..n], out string? known)) return known;
        string s = new(chars[..n]);
        if (_strings.Count >= MaxInterned) _strings.Clear();
        _strings[s] = s;
        return s;
    }
}
