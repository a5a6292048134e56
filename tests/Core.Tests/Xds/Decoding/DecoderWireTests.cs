using Sidecar.Core.Config.Tree;
using Sidecar.Core.Protobuf;
using Sidecar.Core.Xds.Decoding;
using Xunit;

namespace Sidecar.Core.Tests.Xds.Decoding;

/// <summary>The wire-format rules the decoder follows, each on hand-built bytes (protobuf.dev "Encoding" and "JSON Mapping").</summary>
public sealed class DecoderWireTests
{
    private const string Listener = "type.googleapis.com/envoy.config.listener.v3.Listener";
    private const string Cluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

    private static ConfigMap Decode(string type, ProtoWriter w)
    {
        XdsDecodeResult r = ProtoTreeDecoder.Decode(type, w.WrittenSpan, "res");
        Assert.True(r.IsSuccess, r.ToString());
        return Assert.IsType<ConfigMap>(r.Tree);
    }

    private static string Json(ConfigNode n) => ConfigJsonWriter.Write(n, indented: false);

    [Fact]
    public void ScalarsFollowTheJsonMapping()
    {
        ProtoWriter w = new();
        w.WriteString(1, "c1");                       // name
        w.WriteUInt64(2, 3);                          // type = EDS (enum by name)
        int ct = w.BeginMessage(4);                   // connect_timeout: Duration
        w.WriteUInt64(1, 1);
        w.WriteUInt64(2, 500_000_000);
        w.EndMessage(ct);
        int mr = w.BeginMessage(9);                   // max_requests_per_connection: UInt32Value
        w.WriteUInt64(1, 7);
        w.EndMessage(mr);
        w.WriteUInt64(39, 0);                         // respect_dns_ttl = false: default, omitted
        ConfigMap c = Decode(Cluster, w);
        Assert.Equal("""{"name":"c1","type":"EDS","connect_timeout":"1.500s","max_requests_per_connection":7}""", Json(c));
        Assert.Equal("res.connect_timeout", c.Get("connect_timeout")!.Path);
    }

    [Fact]
    public void LastOneofMemberWinsAndUnknownEnumNumbersPrintAsNumbers()
    {
        ProtoWriter w = new();
        w.WriteString(1, "c");
        w.WriteUInt64(2, 1);                          // type = STRICT_DNS …
        int ct = w.BeginMessage(38);                  // … then cluster_type (same oneof) wins
        w.WriteString(1, "envoy.clusters.aggregate");
        w.EndMessage(ct);
        w.WriteUInt64(6, 99);                         // lb_policy = 99: no name
        ConfigMap c = Decode(Cluster, w);
        Assert.Null(c.Get("type"));
        Assert.Equal("""{"name":"envoy.clusters.aggregate"}""", Json(c.Get("cluster_type")!));
        Assert.Equal(new ConfigScalar("", "99", ScalarKind.Number).Text, ((ConfigScalar)c.Get("lb_policy")!).Text);
        Assert.Equal(ScalarKind.Number, ((ConfigScalar)c.Get("lb_policy")!).Kind);
    }

    [Fact]
    public void RepeatedSingularMessageIsMergedAndLastScalarWins()
    {
        ProtoWriter w = new();
        w.WriteString(1, "first");
        w.WriteString(1, "second");
        int a = w.BeginMessage(2);                    // address.socket_address.address
        int sa = w.BeginMessage(1);
        w.WriteString(2, "10.0.0.1");
        w.EndMessage(sa);
        w.EndMessage(a);
        int b = w.BeginMessage(2);                    // address again: socket_address.port_value merges in
        int sb = w.BeginMessage(1);
        w.WriteUInt64(3, 8080);
        w.EndMessage(sb);
        w.EndMessage(b);
        ConfigMap l = Decode(Listener, w);
        Assert.Equal("""{"name":"second","address":{"socket_address":{"address":"10.0.0.1","port_value":8080}}}""", Json(l));
    }

    [Fact]
    public void PackedAndUnpackedRepeatedScalarsBothDecode()
    {
        // RetryPolicy.retriable_status_codes (repeated uint32, field 7): packed run then one unpacked value.
        ProtoWriter w = new();
        int run = w.BeginMessage(7);
        w.WriteVarint(503);
        w.WriteVarint(504);
        w.EndMessage(run);
        w.WriteUInt64(7, 429);
        XdsDecodeResult r = ProtoTreeDecoder.Decode("envoy.config.route.v3.RetryPolicy", w.WrittenSpan);
        Assert.True(r.IsSuccess, r.ToString());
        Assert.Equal("""{"retriable_status_codes":[503,504,429]}""", Json(r.Tree!));
    }

    [Fact]
    public void MapsStructsAnyAndBytes()
    {
        // Metadata.filter_metadata: map<string, Struct>, with the key "istio" given twice (last wins).
        ProtoWriter w = new();
        foreach (string value in new[] { "old", "new" })
        {
            int entry = w.BeginMessage(1);
            w.WriteString(1, "istio");
            int st = w.BeginMessage(2);
            int f = w.BeginMessage(1);                // Struct.fields entry
            w.WriteString(1, "v");
            int val = w.BeginMessage(2);
            w.WriteString(3, value);                  // Value.string_value
            w.EndMessage(val);
            w.EndMessage(f);
            int f2 = w.BeginMessage(1);
            w.WriteString(1, "n");
            int val2 = w.BeginMessage(2);
            w.WriteUInt64(1, 0);                      // Value.null_value
            w.EndMessage(val2);
            w.EndMessage(f2);
            w.EndMessage(st);
            w.EndMessage(entry);
        }
        XdsDecodeResult r = ProtoTreeDecoder.Decode("envoy.config.core.v3.Metadata", w.WrittenSpan, "md");
        Assert.True(r.IsSuccess, r.ToString());
        Assert.Equal("""{"filter_metadata":{"istio":{"v":"new","n":null}}}""", Json(r.Tree!));
        Assert.Equal("md.filter_metadata.istio.v", ((ConfigMap)((ConfigMap)((ConfigMap)r.Tree!).Get("filter_metadata")!).Get("istio")!).Get("v")!.Path);

        // DataSource.inline_bytes is base64; an Any of a well-known type carries "value".
        ProtoWriter d = new();
        d.WriteBytes(2, [0xFF, 0x00, 0x41]);
        Assert.Equal("""{"inline_bytes":"/wBB"}""", Json(ProtoTreeDecoder.Decode("envoy.config.core.v3.DataSource", d.WrittenSpan).Tree!));
        ProtoWriter any = new();
        int tc = any.BeginMessage(2);                 // TypedExtensionConfig.typed_config
        any.WriteString(1, "type.googleapis.com/google.protobuf.StringValue");
        int v = any.BeginMessage(2);
        any.WriteString(1, "x");
        any.EndMessage(v);
        any.EndMessage(tc);
        Assert.Equal("""{"typed_config":{"@type":"type.googleapis.com/google.protobuf.StringValue","value":"x"}}""",
            Json(ProtoTreeDecoder.Decode("envoy.config.core.v3.TypedExtensionConfig", any.WrittenSpan).Tree!));
    }

    [Fact]
    public void UnknownFieldsAreSkippedAndReportedWithTheirMessage()
    {
        ProtoWriter w = new();
        w.WriteString(1, "l");
        w.WriteUInt64(999, 5);
        int a = w.BeginMessage(2);
        w.WriteString(777, "x");
        w.EndMessage(a);
        XdsDecodeResult r = ProtoTreeDecoder.Decode(Listener, w.WrittenSpan, "listener");
        Assert.True(r.IsSuccess, r.ToString());
        Assert.Equal("""{"name":"l","address":{}}""", Json(r.Tree!));
        Assert.Equal(
            [new UnknownField("envoy.config.listener.v3.Listener", 999, "listener"), new UnknownField("envoy.config.core.v3.Address", 777, "listener.address")],
            r.UnknownFields.ToArray());
    }

    [Fact]
    public void DurationsAndTimestampsPrintThreeSixOrNineDigits()
    {
        Assert.True(WellKnownJson.TryFormatDuration(0, 0, out string d0) && d0 == "0s");
        Assert.True(WellKnownJson.TryFormatDuration(1, 10_000_000, out string d1) && d1 == "1.010s");
        Assert.True(WellKnownJson.TryFormatDuration(0, 1_000, out string d2) && d2 == "0.000001s");
        Assert.True(WellKnownJson.TryFormatDuration(-1, -1, out string d3) && d3 == "-1.000000001s");
        Assert.False(WellKnownJson.TryFormatDuration(1, -1, out _));
        Assert.False(WellKnownJson.TryFormatDuration(WellKnownJson.MaxDurationSeconds + 1, 0, out _));
        Assert.True(WellKnownJson.TryFormatTimestamp(1_670_497_433, 361_000_000, out string t) && t == "2022-12-08T11:03:53.361Z");
        Assert.True(WellKnownJson.TryParseTimestamp("2022-12-08T12:03:53.361+01:00", out long s, out int n) && s == 1_670_497_433 && n == 361_000_000);
        Assert.True(WellKnownJson.TryParseDuration("-0.5s", out long ds, out int dn) && ds == 0 && dn == -500_000_000);
        Assert.False(WellKnownJson.TryParseDuration("5", out _, out _));
        Assert.False(WellKnownJson.TryParseDuration("1.0000000001s", out _, out _));
    }

    [Fact]
    public void Int64IsAStringAndFloatsKeepTheirShortestForm()
    {
        ProtoWriter w = new();
        w.WriteUInt64(1, 1);
        XdsDecodeResult r = ProtoTreeDecoder.Decode("google.protobuf.UInt64Value", w.WrittenSpan);
        Assert.Equal(ScalarKind.String, ((ConfigScalar)r.Tree!).Kind);
        Assert.Equal("1", ((ConfigScalar)r.Tree!).Text);
        ProtoWriter p = new();
        p.WriteDouble(1, 0.1);
        Assert.Equal("0.1", ((ConfigScalar)ProtoTreeDecoder.Decode("google.protobuf.DoubleValue", p.WrittenSpan).Tree!).Text);
        ProtoWriter e = new();
        Assert.Equal("0", ((ConfigScalar)ProtoTreeDecoder.Decode("google.protobuf.UInt32Value", e.WrittenSpan).Tree!).Text);
    }
}
