using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Admin;

/// <summary>
/// Pieces of the config dump written as UTF-8 straight into a buffer writer (the response pipe, or a scratch buffer
/// holding one entry): fixed framing bytes, and JSON string literals and config trees through one reused compact
/// <see cref="Utf8JsonWriter"/> — the same writer and options the whole-page builder used, so the bytes are the same,
/// and an entry costs no intermediate strings.
/// </summary>
internal sealed class ConfigDumpText : IDisposable
{
    private readonly IBufferWriter<byte> _target;
    private readonly Utf8JsonWriter _json;

    public ConfigDumpText(IBufferWriter<byte> target)
    {
        _target = target;
        _json = new Utf8JsonWriter(target);
    }

    public void Raw(ReadOnlySpan<byte> utf8) => _target.Write(utf8);

    /// <summary>Text that is already JSON (or framing), encoded as it is.</summary>
    public void Text(ReadOnlySpan<char> text)
    {
        Span<byte> span = _target.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        _target.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    /// <summary>A JSON string literal (quoted and escaped by the writer's default encoder).</summary>
    public void Quote(string value)
    {
        _json.Reset();
        _json.WriteStringValue(value);
        _json.Flush();
    }

    /// <summary>Framing, then a JSON string literal: <c>, "name": "…"</c>.</summary>
    public void Quoted(ReadOnlySpan<byte> before, string value)
    {
        Raw(before);
        Quote(value);
    }

    /// <summary>A resource tree with its <c>@type</c> first (an Any's JSON form), written compact.</summary>
    public void Resource(ConfigNode tree, string typeUrl)
    {
        _json.Reset();
        if (tree is ConfigMap map)
        {
            _json.WriteStartObject();
            _json.WriteString("@type", typeUrl);
            foreach (KeyValuePair<string, ConfigNode> entry in map.Entries)
            {
                _json.WritePropertyName(entry.Key);
                ConfigJsonWriter.Write(_json, entry.Value);
            }
            _json.WriteEndObject();
        }
        else
        {
            ConfigJsonWriter.Write(_json, tree);
        }
        _json.Flush();
    }

    public void Node(JsonNode node)
    {
        _json.Reset();
        node.WriteTo(_json);
        _json.Flush();
    }

    /// <summary>A protobuf Timestamp's JSON text (RFC 3339, UTC, milliseconds), without quotes.</summary>
    public void Timestamp(DateTimeOffset at)
    {
        Span<byte> span = _target.GetSpan(32);
        at.UtcDateTime.TryFormat(span, out int written, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        _target.Advance(written);
    }

    public void Dispose() => _json.Dispose();
}
