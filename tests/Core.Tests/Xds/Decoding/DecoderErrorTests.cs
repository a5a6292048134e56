using Sidecar.Core.Config.Tree;
using Sidecar.Core.Protobuf;
using Sidecar.Core.Xds.Decoding;
using Sidecar.Core.Xds.Schema;
using Xunit;

namespace Sidecar.Core.Tests.Xds.Decoding;

/// <summary>Bad input gives a returned error with the path where it was found, never an exception or a partial tree.</summary>
[Collection(Schema.XdsDecodingCollection.Name)]
public sealed class DecoderErrorTests
{
    private const string Listener = "type.googleapis.com/envoy.config.listener.v3.Listener";

    /// <summary>A listener whose first filter's typed_config is an HCM: the shape of the error paths below.</summary>
    private static ProtoWriter ListenerWithFilter(Action<ProtoWriter> typedConfigBody, string typeUrl)
    {
        ProtoWriter w = new();
        w.WriteString(1, "l");
        int chain = w.BeginMessage(3);
        int filter = w.BeginMessage(3);
        w.WriteString(1, "f");
        int tc = w.BeginMessage(4);
        w.WriteString(1, typeUrl);
        int value = w.BeginMessage(2);
        typedConfigBody(w);
        w.EndMessage(value);
        w.EndMessage(tc);
        w.EndMessage(filter);
        w.EndMessage(chain);
        return w;
    }

    [Fact]
    public void UnknownAnyTypeNamesTheTypeAndThePath()
    {
        ProtoWriter w = ListenerWithFilter(b => b.WriteString(1, "x"), "type.googleapis.com/acme.Unknown");
        XdsDecodeResult r = ProtoTreeDecoder.Decode(Listener, w.WrittenSpan, "listener");
        Assert.Equal(XdsCodecError.UnknownAnyType, r.Error);
        Assert.Equal("listener.filter_chains[0].filters[0].typed_config", r.ErrorPath);
        Assert.Equal("type.googleapis.com/acme.Unknown", r.Detail);
        Assert.Null(r.Tree);
        Assert.Equal("listener.filter_chains[0].filters[0].typed_config: UnknownAnyType (type.googleapis.com/acme.Unknown)", r.ToString());

        // Allowed opaque: kept as bytes under a key no translator accepts, and encoded back unchanged.
        XdsDecodeResult opaque = ProtoTreeDecoder.Decode(Listener, w.WrittenSpan, "listener", new XdsDecodeOptions { AllowOpaqueAny = true });
        Assert.True(opaque.IsSuccess, opaque.ToString());
        Assert.Contains("\"@opaque\":\"CgF4\"", ConfigJsonWriter.Write(opaque.Tree!, indented: false), StringComparison.Ordinal);
        XdsEncodeResult back = ProtoTreeEncoder.Encode(Listener, opaque.Tree!);
        Assert.True(back.IsSuccess, back.ToString());
        Assert.Equal(w.ToArray(), back.Bytes);
    }

    [Fact]
    public void UnknownResourceType()
    {
        XdsDecodeResult r = ProtoTreeDecoder.Decode("type.googleapis.com/envoy.config.listener.v3.Nope", [], "x");
        Assert.Equal(XdsCodecError.UnknownResourceType, r.Error);
    }

    [Fact]
    public void WrongWireTypeForADeclaredField()
    {
        ProtoWriter w = new();
        w.WriteUInt64(1, 5);                          // Listener.name is a string: varint is wrong
        XdsDecodeResult r = ProtoTreeDecoder.Decode(Listener, w.WrittenSpan, "listener");
        Assert.Equal(XdsCodecError.WrongWireType, r.Error);
        Assert.Equal("listener.name", r.ErrorPath);

        ProtoWriter m = new();
        m.WriteUInt64(2, 1);                          // Listener.address is a message
        Assert.Equal(XdsCodecError.WrongWireType, ProtoTreeDecoder.Decode(Listener, m.WrittenSpan).Error);
    }

    [Fact]
    public void TruncatedAndGarbageBytesAreMalformed()
    {
        ProtoWriter w = ListenerWithFilter(b => b.WriteString(1, "stat"), "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
        byte[] full = w.ToArray();
        Assert.True(ProtoTreeDecoder.Decode(Listener, full).IsSuccess);
        for (int cut = 1; cut < full.Length; cut++)
        {
            XdsDecodeResult r = ProtoTreeDecoder.Decode(Listener, full.AsSpan(0, cut));
            // Some cuts land on a field boundary of the outer message and are a valid shorter listener.
            Assert.True(r.IsSuccess || r.Error is XdsCodecError.Malformed or XdsCodecError.WrongWireType, $"cut {cut}: {r}");
            Assert.True(r.IsSuccess == (r.Tree is not null));
        }
        // One byte short: the filter chain's length prefix now points past the end.
        XdsDecodeResult short1 = ProtoTreeDecoder.Decode(Listener, full.AsSpan(0, full.Length - 1), "listener");
        Assert.Equal(XdsCodecError.Malformed, short1.Error);
        Assert.Equal(ProtoError.LengthOutOfRange, short1.WireError);

        Random random = new(1234);
        byte[] garbage = new byte[256];
        int failures = 0;
        for (int i = 0; i < 2000; i++)
        {
            random.NextBytes(garbage);
            int length = random.Next(garbage.Length);
            foreach (string type in new[] { Listener, "type.googleapis.com/envoy.config.cluster.v3.Cluster", "type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap" })
            {
                XdsDecodeResult r = ProtoTreeDecoder.Decode(type, garbage.AsSpan(0, length), "g", new XdsDecodeOptions { AllowOpaqueAny = i % 2 == 0 });
                failures += r.IsSuccess ? 0 : 1;
                Assert.True(r.IsSuccess == (r.Tree is not null) && (r.IsSuccess || r.ErrorPath.StartsWith('g')), r.ToString());
            }
        }
        Assert.True(failures > 5000, "random bytes should mostly fail: " + failures);

        // Flipping each byte of a valid resource: an error or another valid tree, never an exception.
        byte[] copy = (byte[])full.Clone();
        for (int i = 0; i < copy.Length; i++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                copy[i] ^= (byte)(1 << bit);
                _ = ProtoTreeDecoder.Decode(Listener, copy);
                copy[i] ^= (byte)(1 << bit);
            }
        }
    }

    [Fact]
    public void BadUtf8InAStringField()
    {
        ProtoWriter w = new();
        w.WriteBytes(1, [0xC3, 0x28]);
        XdsDecodeResult r = ProtoTreeDecoder.Decode(Listener, w.WrittenSpan, "listener");
        Assert.Equal(XdsCodecError.Malformed, r.Error);
        Assert.Equal(ProtoError.BadUtf8, r.WireError);
        Assert.Equal("listener.name", r.ErrorPath);
    }

    [Fact]
    public void NestingBeyondTheLimitIsTooDeep()
    {
        // Struct in Value in Struct …: 200 levels of Value.struct_value / Struct.fields.
        byte[] inner = [];
        for (int i = 0; i < 200; i++)
        {
            ProtoWriter v = new();
            int sv = v.BeginMessage(5);              // Value.struct_value
            int entry = v.BeginMessage(1);           // Struct.fields entry
            v.WriteString(1, "k");
            v.WriteBytes(2, inner);                  // the previous level as the entry's Value
            v.EndMessage(entry);
            v.EndMessage(sv);
            inner = v.ToArray();
        }
        XdsDecodeResult r = ProtoTreeDecoder.Decode("google.protobuf.Value", inner, "v");
        Assert.Equal(XdsCodecError.TooDeep, r.Error);
        XdsDecodeResult shallow = ProtoTreeDecoder.Decode("google.protobuf.Value", inner, "v", new XdsDecodeOptions { MaxDepth = 1000 });
        Assert.True(shallow.IsSuccess, shallow.ToString());

        // Any inside Any inside Any …
        byte[] any = [];
        for (int i = 0; i < 150; i++)
        {
            ProtoWriter a = new();
            a.WriteString(1, "type.googleapis.com/google.protobuf.Any");
            a.WriteBytes(2, any);
            any = a.ToArray();
        }
        Assert.Equal(XdsCodecError.TooDeep, ProtoTreeDecoder.Decode("google.protobuf.Any", any).Error);
    }

    [Fact]
    public void OutOfRangeDurationAndAnyWithoutType()
    {
        ProtoWriter d = new();
        d.WriteUInt64(1, 1);
        d.WriteInt64(2, -5);                          // nanos with the other sign
        Assert.Equal(XdsCodecError.OutOfRange, ProtoTreeDecoder.Decode("google.protobuf.Duration", d.WrittenSpan).Error);
        ProtoWriter a = new();
        a.WriteBytes(2, [1, 2]);
        Assert.Equal(XdsCodecError.BadAny, ProtoTreeDecoder.Decode("google.protobuf.Any", a.WrittenSpan).Error);
        Assert.Equal("{}", ConfigJsonWriter.Write(ProtoTreeDecoder.Decode("google.protobuf.Any", []).Tree!, indented: false));
    }

    [Fact]
    public void EncoderRefusesWhatProto3JsonRefuses()
    {
        static XdsEncodeResult Enc(string type, string json) =>
            ProtoTreeEncoder.Encode(type, JsonTreeReader.Read(json).Value!);
        XdsEncodeResult unknown = Enc(Listener, """{"name":"l","nonsense":1}""");
        Assert.Equal(XdsCodecError.UnknownField, unknown.Error);
        Assert.Equal("nonsense", unknown.ErrorPath);
        Assert.Equal(XdsCodecError.OneofConflict,
            Enc("envoy.config.cluster.v3.Cluster", """{"type":"EDS","cluster_type":{"name":"x"}}""").Error);
        Assert.Equal(XdsCodecError.BadValue, Enc("envoy.config.cluster.v3.Cluster", """{"type":"NOPE"}""").Error);
        Assert.Equal(XdsCodecError.BadValue, Enc("envoy.config.cluster.v3.Cluster", """{"connect_timeout":"5"}""").Error);
        Assert.Equal(XdsCodecError.BadValue, Enc("envoy.config.cluster.v3.Cluster", """{"per_connection_buffer_limit_bytes":-1}""").Error);
        Assert.Equal(XdsCodecError.BadValue, Enc("envoy.config.core.v3.SocketAddress", """{"port_value":4294967296}""").Error);
        Assert.Equal(XdsCodecError.UnknownAnyType,
            Enc("envoy.config.core.v3.TypedExtensionConfig", """{"typed_config":{"@type":"type.googleapis.com/acme.X"}}""").Error);
        Assert.Equal(XdsCodecError.BadAny, Enc("envoy.config.core.v3.TypedExtensionConfig", """{"typed_config":{"a":1}}""").Error);
        // lowerCamelCase keys are the proto3 JSON names and are accepted.
        XdsEncodeResult camel = Enc("envoy.config.core.v3.SocketAddress", """{"portValue":15001,"address":"0.0.0.0"}""");
        Assert.True(camel.IsSuccess, camel.ToString());
        Assert.Equal("""{"address":"0.0.0.0","port_value":15001}""",
            ConfigJsonWriter.Write(ProtoTreeDecoder.Decode("envoy.config.core.v3.SocketAddress", camel.Bytes).Tree!, indented: false));
    }

    [Fact]
    public void ComparerSeesAChangedOrDroppedValue()
    {
        XdsSchema s = XdsSchema.Envoy;
        MessageDescriptor md = s.FindMessage("envoy.config.core.v3.SocketAddress")!;
        ConfigNode a = JsonTreeReader.Read("""{"address":"1.2.3.4","port_value":80}""").Value!;
        SchemaTreeComparer same = new(s);
        same.CompareMessage(md, a, JsonTreeReader.Read("""{"port_value":"80","address":"1.2.3.4","ipv4_compat":false}""").Value!, "x");
        Assert.Contains("present only after decoding", string.Join(";", same.Differences), StringComparison.Ordinal);
        SchemaTreeComparer changed = new(s);
        changed.CompareMessage(md, a, JsonTreeReader.Read("""{"address":"1.2.3.4","port_value":81}""").Value!, "x");
        Assert.Single(changed.Differences);
        SchemaTreeComparer dropped = new(s);
        dropped.CompareMessage(md, a, JsonTreeReader.Read("""{"address":"1.2.3.4"}""").Value!, "x");
        Assert.Single(dropped.Differences);
        SchemaTreeComparer normalised = new(s);
        normalised.CompareMessage(md, JsonTreeReader.Read("""{"address":"1.2.3.4","ipv4_compat":false}""").Value!, JsonTreeReader.Read("""{"address":"1.2.3.4"}""").Value!, "x");
        Assert.Empty(normalised.Differences);
        Assert.Equal(1, normalised.Normalisations["default omitted"]);
        // port_value is a oneof member: it has presence, so a 0 written out must survive.
        SchemaTreeComparer presence = new(s);
        presence.CompareMessage(md, JsonTreeReader.Read("""{"address":"1.2.3.4","port_value":0}""").Value!, JsonTreeReader.Read("""{"address":"1.2.3.4"}""").Value!, "x");
        Assert.Single(presence.Differences);
    }
}
