using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Sidecar.Core.Config.Tree;

/// <summary>Renders a <see cref="ConfigNode"/> tree as JSON (for <c>/config_dump</c>), with Utf8JsonWriter only.</summary>
public static class ConfigJsonWriter
{
    public static string Write(ConfigNode node, bool indented = true)
    {
        ArrayBufferWriter<byte> buffer = new();
        using (Utf8JsonWriter w = new(buffer, new JsonWriterOptions { Indented = indented, SkipValidation = false }))
        {
            WriteNode(w, node);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The tree into a caller's writer (the admin dump streams many trees through one reused writer).</summary>
    public static void Write(Utf8JsonWriter w, ConfigNode node) => WriteNode(w, node);

    /// <summary>A string as a JSON string literal (quotes and escapes), for pages assembled around rendered trees.</summary>
    public static string Quote(string value)
    {
        ArrayBufferWriter<byte> buffer = new(value.Length + 2);
        using (Utf8JsonWriter w = new(buffer))
        {
            w.WriteStringValue(value);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteNode(Utf8JsonWriter w, ConfigNode node)
    {
        switch (node)
        {
            case ConfigMap m:
                w.WriteStartObject();
                foreach (KeyValuePair<string, ConfigNode> e in m.Entries)
                {
                    w.WritePropertyName(e.Key);
                    WriteNode(w, e.Value);
                }
                w.WriteEndObject();
                break;
            case ConfigList l:
                w.WriteStartArray();
                foreach (ConfigNode item in l.Items)
                {
                    WriteNode(w, item);
                }
                w.WriteEndArray();
                break;
            case ConfigScalar s:
                WriteScalar(w, s);
                break;
        }
    }

    private static void WriteScalar(Utf8JsonWriter w, ConfigScalar s)
    {
        switch (s.Kind)
        {
            case ScalarKind.Null:
                w.WriteNullValue();
                break;
            case ScalarKind.Bool:
                w.WriteBooleanValue(s.Text.Equals("true", StringComparison.OrdinalIgnoreCase));
                break;
            case ScalarKind.Number when IsJsonNumber(s.Text):
                w.WriteRawValue(s.Text, skipInputValidation: true);
                break;
            default:
                // YAML-only number spellings (0x1F, .inf, +5) are not JSON numbers: keep the text.
                w.WriteStringValue(s.Text);
                break;
        }
    }

    /// <summary>RFC 8259 number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?</summary>
    internal static bool IsJsonNumber(string t)
    {
        int i = 0;
        if (i < t.Length && t[i] == '-')
        {
            i++;
        }
        if (i >= t.Length || !char.IsAsciiDigit(t[i]))
        {
            return false;
        }
        if (t[i] == '0')
        {
            i++;
        }
        else
        {
            while (i < t.Length && char.IsAsciiDigit(t[i]))
            {
                i++;
            }
        }
        if (i < t.Length && t[i] == '.')
        {
            i++;
            int start = i;
            while (i < t.Length && char.IsAsciiDigit(t[i]))
            {
                i++;
            }
            if (i == start)
            {
                return false;
            }
        }
        if (i < t.Length && (t[i] == 'e' || t[i] == 'E'))
        {
            i++;
            if (i < t.Length && (t[i] == '+' || t[i] == '-'))
            {
                i++;
            }
            int start = i;
            while (i < t.Length && char.IsAsciiDigit(t[i]))
            {
                i++;
            }
            if (i == start)
            {
                return false;
            }
        }
        _ = CultureInfo.InvariantCulture;
        return i == t.Length;
    }
}
