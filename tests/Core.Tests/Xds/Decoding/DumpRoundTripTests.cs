using System.Text.Json;
using Sidecar.Core.Tests.Config;
using Sidecar.Core.Tests.Xds.Schema;
using Sidecar.Core.Xds.Decoding;
using Sidecar.Core.Xds.Schema;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.Core.Tests.Xds.Decoding;

/// <summary>
/// Every resource istiod really produced (config dumps) and every istio-agent bootstrap golden goes
/// JSON → protobuf → tree, twice: once with our encoder, once with protobufjs (independent of our schema
/// and codec). Both decoded trees must equal the JSON tree up to the normalisations
/// <see cref="SchemaTreeComparer"/> counts and names.
/// </summary>
[Collection(XdsDecodingCollection.Name)]
public sealed class DumpRoundTripTests(ITestOutputHelper output)
{
    [Fact]
    public void OurEncoderThenOurDecoderGivesTheDumpTree()
    {
        XdsSchema schema = XdsSchema.Envoy;
        SchemaTreeComparer comparer = new(schema);
        List<string> failures = [];
        int bytes = 0;
        Assert.NotEmpty(ConformanceResources.All);
        foreach (DumpResource r in ConformanceResources.All)
        {
            MessageDescriptor md = schema.FindMessage(r.TypeName)!;
            XdsEncodeResult encoded = ProtoTreeEncoder.Encode(md, r.Tree);
            if (!encoded.IsSuccess)
            {
                failures.Add($"{r}: encode {encoded}");
                continue;
            }
            bytes += encoded.Bytes!.Length;
            XdsDecodeResult decoded = ProtoTreeDecoder.Decode(md, encoded.Bytes, "resource");
            if (!decoded.IsSuccess)
            {
                failures.Add($"{r}: decode {decoded}");
                continue;
            }
            Assert.Empty(decoded.UnknownFields);
            int before = comparer.Differences.Count;
            comparer.CompareMessage(md, r.Tree, decoded.Tree!, r.ShortType);
            if (comparer.Differences.Count > before)
            {
                failures.Add($"{r}: {string.Join("; ", comparer.Differences.Skip(before).Take(5))}");
            }
        }
        Report(comparer, bytes);
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(30)));
    }

    [EnvoyProtosFact]
    public void ProtobufjsEncoderThenOurDecoderGivesTheDumpTree()
    {
        XdsSchema schema = XdsSchema.Envoy;
        var resources = ConformanceResources.All;
        string dir = Directory.CreateTempSubdirectory("xds-pbjs-").FullName;
        try
        {
            string input = Path.Combine(dir, "in.json");
            string result = Path.Combine(dir, "out.json");
            using (FileStream fs = File.Create(input))
            using (Utf8JsonWriter w = new(fs))
            {
                w.WriteStartArray();
                foreach (DumpResource r in resources)
                {
                    w.WriteStartObject();
                    w.WriteString("type", r.TypeName);
                    w.WritePropertyName("json");
                    w.WriteRawValue(r.Json);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            XdsTestTools.RunNode(Path.Combine(XdsTestTools.DecodingDir, "encode-with-protobufjs.js"), EnvoyProtos.Deps, input, result);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(result));
            JsonElement[] outputs = [.. doc.RootElement.EnumerateArray()];
            Assert.Equal(resources.Length, outputs.Length);
            SchemaTreeComparer comparer = new(schema);
            List<string> failures = [];
            int bytes = 0;
            for (int i = 0; i < resources.Length; i++)
            {
                DumpResource r = resources[i];
                if (!outputs[i].TryGetProperty("base64", out JsonElement b64))
                {
                    failures.Add($"{r}: protobufjs could not encode it: {outputs[i].GetProperty("error").GetString()}");
                    continue;
                }
                byte[] wire = Convert.FromBase64String(b64.GetString()!);
                bytes += wire.Length;
                XdsDecodeResult decoded = ProtoTreeDecoder.Decode("type.googleapis.com/" + r.TypeName, wire, "resource");
                if (!decoded.IsSuccess)
                {
                    failures.Add($"{r}: decode {decoded}");
                    continue;
                }
                Assert.Empty(decoded.UnknownFields);
                int before = comparer.Differences.Count;
                comparer.CompareMessage(schema.FindMessage(r.TypeName)!, r.Tree, decoded.Tree!, r.ShortType);
                if (comparer.Differences.Count > before)
                {
                    failures.Add($"{r}: {string.Join("; ", comparer.Differences.Skip(before).Take(5))}");
                }
            }
            Report(comparer, bytes);
            Assert.True(failures.Count == 0, string.Join("\n", failures.Take(30)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private void Report(SchemaTreeComparer comparer, int bytes)
    {
        var byType = ConformanceResources.All.GroupBy(r => r.ShortType).OrderBy(g => g.Key, StringComparer.Ordinal);
        output.WriteLine($"{ConformanceResources.All.Length} resources ({string.Join(", ", byType.Select(g => $"{g.Count()} {g.Key}"))}), {bytes} protobuf bytes");
        output.WriteLine($"from {ConformanceResources.DumpFiles.Count()} dumps and {ConformanceResources.BootstrapFiles.Count()} bootstraps");
        foreach (KeyValuePair<string, int> n in comparer.Normalisations)
        {
            output.WriteLine($"normalisation {n.Key}: {n.Value}");
        }
    }
}
