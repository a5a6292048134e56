using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sidecar.Core.Xds.Integration;

namespace Sidecar.Admin;

/// <summary>
/// Envoy's <c>/config_dump</c> written into the response as it is produced, flushed every 64 KiB: with 10,000 clusters
/// and 100,000 endpoints the <c>?include_eds</c> page is tens of MB, and building it whole (a StringBuilder, its string,
/// its UTF-8 copy, and for <c>?resource=</c>/<c>?mask=</c> a JsonNode tree of all of it) left the process holding
/// several times that. The whole page comes out byte for byte as the builder made it; the filtered forms as
/// <see cref="ConfigDumpFilter"/> makes them (indented, one entry per element or per masked dump), element by element.
/// </summary>
internal static class ConfigDumpWriter
{
    private const int FlushEvery = 64 * 1024;

    /// <summary>The bootstrap text goes out in pieces of this many chars, so a large static config is not copied whole.</summary>
    private const int TextChunk = 16 * 1024;

    /// <param name="resource">Envoy's <c>resource</c> (a field <see cref="ConfigDumpFilter.Check"/> accepted), or null.</param>
    /// <param name="paths">The <c>mask</c>'s field paths, or null.</param>
    public static Task WriteAsync(PipeWriter output, ConfigDumpSource source, string? resource, string[]? paths) =>
        resource is null && paths is null ? WholeAsync(output, source) : FilteredAsync(output, source, resource, paths);

    private static async Task WholeAsync(PipeWriter output, ConfigDumpSource source)
    {
        using var text = new ConfigDumpText(output);
        var sink = new WholeSink(output, text);
        text.Raw("{\n \"configs\": [\n  {\n   \"@type\": \"type.googleapis.com/envoy.admin.v3.BootstrapConfigDump\",\n   \"bootstrap\": "u8);
        if (!await BootstrapAsync(output, text, source.BootstrapJson)) return;
        text.Raw("\n  }"u8);
        JsonNode? staticResources = StaticResources(source);
        foreach (ConfigDumpSection section in ConfigDumpSection.Of(source))
        {
            text.Raw(",\n  {\n   \"@type\": \"type.googleapis.com/envoy.admin.v3."u8);
            text.Text(section.DumpType);
            text.Raw("\","u8);
            if (section.StaticItems(staticResources) is { } items)
            {
                ListStart(text, section.StaticField!.Value.DumpField, sink);
                if (!await ConfigDumpEntries.StaticAsync(section, items, sink)) return;
                text.Raw(sink.First ? "],\n   "u8 : "\n   ],\n   "u8);
            }
            ListStart(text, section.DynamicField, sink);
            if (!await ConfigDumpEntries.DynamicAsync(section, source, sink)) return;
            text.Raw(sink.First ? "]\n  }"u8 : "\n   ]\n  }"u8);
        }
        text.Raw("\n ]\n}\n"u8);
    }

    private static void ListStart(ConfigDumpText text, string field, WholeSink sink)
    {
        text.Raw("\n   \""u8);
        text.Text(field);
        text.Raw("\": ["u8);
        sink.First = true;
    }

    /// <summary>The bootstrap as it was given (already JSON), in pieces with flushes between them.</summary>
    private static async ValueTask<bool> BootstrapAsync(PipeWriter output, ConfigDumpText text, string json)
    {
        for (int at = 0; at < json.Length;)
        {
            int n = Math.Min(TextChunk, json.Length - at);
            // A surrogate pair is encoded whole: never end a piece between its halves.
            if (at + n < json.Length && char.IsHighSurrogate(json[at + n - 1])) n--;
            text.Text(json.AsSpan(at, n));
            at += n;
            if (!await FlushIfFullAsync(output)) return false;
        }
        return true;
    }

    /// <summary>
    /// <c>{"configs": [...]}</c> indented as ConfigDumpFilter writes it: with <c>resource</c>, every element of that list
    /// (in every dump that has it) typed as the nested message and masked; with <c>mask</c> alone, each top-level dump
    /// masked — a masked list is streamed element by element, only the small bootstrap dump is a tree.
    /// </summary>
    private static async Task FilteredAsync(PipeWriter output, ConfigDumpSource source, string? resource, string[]? paths)
    {
        var scratch = new ArrayBufferWriter<byte>(4096);
        using var text = new ConfigDumpText(scratch);
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        var sink = new FilteredSink(output, scratch, text, json, resource, paths);
        json.WriteStartObject();
        json.WritePropertyName("configs");
        json.WriteStartArray();
        JsonNode? staticResources = StaticResources(source);
        if (resource is null)
        {
            var bootstrap = new JsonObject
            {
                ["@type"] = "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
                ["bootstrap"] = JsonNode.Parse(source.BootstrapJson),
            };
            ConfigDumpFilter.Masked(bootstrap, paths!).WriteTo(json);
        }
        foreach (ConfigDumpSection section in ConfigDumpSection.Of(source))
        {
            JsonArray? items = section.StaticItems(staticResources);
            string? staticField = items is null ? null : section.StaticField!.Value.DumpField;
            if (resource is not null)
            {
                if (items is not null && staticField == resource && !await ConfigDumpEntries.StaticAsync(section, items, sink)) return;
                if (section.DynamicField == resource && !await ConfigDumpEntries.DynamicAsync(section, source, sink)) return;
                continue;
            }
            // The dump's fields with its lists as placeholders: the filter's own masking decides which fields stay.
            var skeleton = new JsonObject { ["@type"] = "type.googleapis.com/envoy.admin.v3." + section.DumpType };
            if (staticField is not null) skeleton[staticField] = new JsonArray();
            skeleton[section.DynamicField] = new JsonArray();
            json.WriteStartObject();
            foreach (KeyValuePair<string, JsonNode?> field in ConfigDumpFilter.Masked(skeleton, paths!))
            {
                json.WritePropertyName(field.Key);
                if (field.Key == staticField || field.Key == section.DynamicField)
                {
                    json.WriteStartArray();
                    bool written = field.Key == staticField
                        ? await ConfigDumpEntries.StaticAsync(section, items!, sink)
                        : await ConfigDumpEntries.DynamicAsync(section, source, sink);
                    if (!written) return;
                    json.WriteEndArray();
                }
                else
                {
                    field.Value!.WriteTo(json);
                }
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        output.Write("\n"u8);
    }

    /// <summary>The bootstrap's <c>static_resources</c> (small: parsed per request), or null when there is none.</summary>
    private static JsonNode? StaticResources(ConfigDumpSource source)
    {
        if (source.Resources is null) return null;
        try
        {
            return JsonNode.Parse(source.BootstrapJson)?["static_resources"];
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Called after something was written.</summary>
    /// <returns>False when the client has gone (the transport's reader completed): the rest of the page is not produced.</returns>
    private static async ValueTask<bool> FlushIfFullAsync(PipeWriter output)
    {
        // Nothing unflushed right after a write means the pipe dropped it: once its reader has completed, a Pipe's
        // Advance does nothing, and only a flush says that the reader is gone.
        if (output.UnflushedBytes is > 0 and < FlushEvery) return true;
        FlushResult flushed = await output.FlushAsync();
        return !flushed.IsCompleted && !flushed.IsCanceled;
    }

    /// <summary>Entries written straight into the response, each on its own line after the list's opening bracket.</summary>
    private sealed class WholeSink(PipeWriter output, ConfigDumpText text) : IConfigDumpSink
    {
        /// <summary>No entry of the current list written yet.</summary>
        public bool First { get; set; }

        public ConfigDumpText BeginEntry()
        {
            text.Raw(First ? "\n    "u8 : ",\n    "u8);
            First = false;
            return text;
        }

        public ValueTask<bool> EndEntryAsync() => FlushIfFullAsync(output);
    }

    /// <summary>
    /// Each entry is written into a scratch buffer, parsed (one entry's tree at a time), and written indented into the
    /// response: as an element of its own (<c>resource</c>) or as it is (a masked dump's list).
    /// </summary>
    private sealed class FilteredSink(PipeWriter output, ArrayBufferWriter<byte> scratch, ConfigDumpText text, Utf8JsonWriter json,
        string? resource, string[]? paths) : IConfigDumpSink
    {
        public ConfigDumpText BeginEntry()
        {
            scratch.ResetWrittenCount();
            return text;
        }

        public ValueTask<bool> EndEntryAsync()
        {
            if (resource is not null)
            {
                if (JsonNode.Parse(scratch.WrittenSpan) is JsonObject element) ConfigDumpFilter.Element(element, resource, paths).WriteTo(json);
            }
            else
            {
                using JsonDocument entry = JsonDocument.Parse(scratch.WrittenMemory);
                entry.RootElement.WriteTo(json);
            }
            json.Flush();
            return FlushIfFullAsync(output);
        }
    }
}
