using System.Collections.Immutable;
using System.Text.Json;

namespace Sidecar.Core.Config.Tree;

/// <summary>
/// Builds a <see cref="ConfigNode"/> tree from JSON with <see cref="JsonDocument"/> (no reflection).
/// This is also the entry point for xDS: a protobuf resource rendered with the proto3 canonical JSON
/// mapping goes through here and then through the same translator as a static file.
/// </summary>
public static class JsonTreeReader
{
    private static readonly JsonDocumentOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = false,
        MaxDepth = 128,
    };

    public static ConfigResult<ConfigNode> Read(string text)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(text, Options);
            int order = 0;
            return Build(doc.RootElement, "", ref order, out ConfigError? error) is { } node
                ? ConfigResult.Success<ConfigNode>(node)
                : ConfigResult.Failure<ConfigNode>([error!]);
        }
        catch (JsonException ex)
        {
            return ConfigResult.Failure<ConfigNode>("", $"JSON syntax error at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}: {ex.Message}");
        }
    }

    /// <summary>Converts an already-parsed element (e.g. one xDS resource) into a tree rooted at <paramref name="path"/>.</summary>
    public static ConfigResult<ConfigNode> FromElement(JsonElement element, string path)
    {
        int order = 0;
        return Build(element, path, ref order, out ConfigError? error) is { } node
            ? ConfigResult.Success<ConfigNode>(node)
            : ConfigResult.Failure<ConfigNode>([error!]);
    }

    private static ConfigNode? Build(JsonElement e, string path, ref int order, out ConfigError? error)
    {
        error = null;
        int self = order++;
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                List<KeyValuePair<string, ConfigNode>> entries = [];
                HashSet<string> seen = new(StringComparer.Ordinal);
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    string childPath = ConfigNode.ChildPath(path, p.Name);
                    if (!seen.Add(p.Name))
                    {
                        // JsonDocument keeps duplicates; protobuf JSON parsing rejects them, so do we.
                        error = new ConfigError(childPath, "duplicate key");
                        return null;
                    }
                    ConfigNode? child = Build(p.Value, childPath, ref order, out error);
                    if (child is null)
                    {
                        return null;
                    }
                    entries.Add(new(p.Name, child));
                }
                return new ConfigMap(path, [.. entries], self);
            case JsonValueKind.Array:
                ImmutableArray<ConfigNode>.Builder items = ImmutableArray.CreateBuilder<ConfigNode>();
                foreach (JsonElement item in e.EnumerateArray())
                {
                    ConfigNode? child = Build(item, ConfigNode.ItemPath(path, items.Count), ref order, out error);
                    if (child is null)
                    {
                        return null;
                    }
                    items.Add(child);
                }
                return new ConfigList(path, items.ToImmutable(), self);
            case JsonValueKind.String:
                return new ConfigScalar(path, e.GetString()!, ScalarKind.String, self);
            case JsonValueKind.Number:
                return new ConfigScalar(path, e.GetRawText(), ScalarKind.Number, self);
            case JsonValueKind.True or JsonValueKind.False:
                return new ConfigScalar(path, e.ValueKind == JsonValueKind.True ? "true" : "false", ScalarKind.Bool, self);
            default:
                return new ConfigScalar(path, "null", ScalarKind.Null, self);
        }
    }
}
