using System.Text.Json;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>One case of an hpack-test-case story: optional SETTINGS_HEADER_TABLE_SIZE, the wire block (absent in raw-data), the fields.</summary>
internal sealed record StoryCase(int Seqno, int? HeaderTableSize, byte[]? Wire, List<Field> Headers);

/// <summary>Reads ../shared/conformance/hpack/&lt;encoder&gt;/story_NN.json (format in that folder's README and SOURCES.md).</summary>
internal static class HpackStoryFile
{
    public static List<StoryCase> Load(string path)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var cases = new List<StoryCase>();
        foreach (JsonElement c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            int? tableSize = null;
            // swift-nio files carry "header_table_size": null: treated as absent (SOURCES.md quirks).
            if (c.TryGetProperty("header_table_size", out JsonElement size) && size.ValueKind == JsonValueKind.Number) tableSize = size.GetInt32();
            byte[]? wire = c.TryGetProperty("wire", out JsonElement w) ? HpackTestData.FromHex(w.GetString()!) : null;
            var headers = new List<Field>();
            foreach (JsonElement h in c.GetProperty("headers").EnumerateArray())
            {
                foreach (JsonProperty p in h.EnumerateObject()) headers.Add(new Field(p.Name, p.Value.GetString()!));
            }
            // raw-data cases have no seqno: their position stands in.
            int seqno = c.TryGetProperty("seqno", out JsonElement n) ? n.GetInt32() : cases.Count;
            cases.Add(new StoryCase(seqno, tableSize, wire, headers));
        }
        return cases;
    }

    /// <summary>Every encoder folder's story files (everything found, not a fixed list: SOURCES.md says more may be added).</summary>
    public static IEnumerable<object[]> EncodedStories()
    {
        string root = HpackTestData.HpackConformance;
        foreach (string dir in Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal))
        {
            if (Path.GetFileName(dir) == "raw-data") continue;
            foreach (string file in Directory.GetFiles(dir, "story_*.json").OrderBy(f => f, StringComparer.Ordinal))
            {
                yield return [Path.GetFileName(dir) + "/" + Path.GetFileName(file)];
            }
        }
    }

    public static IEnumerable<string> RawStories() =>
        Directory.GetFiles(Path.Combine(HpackTestData.HpackConformance, "raw-data"), "story_*.json").OrderBy(f => f, StringComparer.Ordinal);
}
