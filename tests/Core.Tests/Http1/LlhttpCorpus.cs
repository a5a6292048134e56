using System.Text;
using System.Text.Json;

namespace Sidecar.Core.Tests.Http1;

/// <summary>One llhttp Markdown fixture: heading, meta, input bytes and expected callback log.</summary>
internal sealed class LlhttpCase
{
    public required string File { get; init; }
    public required string Title { get; init; }
    public required string Type { get; init; }
    public required byte[] Input { get; init; }
    public required string[] Log { get; init; }
    public bool NoScan { get; init; }
    public bool Pause { get; init; }
    public bool SkipBody { get; init; }
    public int Ordinal { get; init; }

    public bool IsRequest => Type.StartsWith("request", StringComparison.Ordinal);
    public bool IsFinish => Type.EndsWith("-finish", StringComparison.Ordinal);
    public bool IsLenient => Type.Contains("-lenient-", StringComparison.Ordinal);

    /// <summary>Stable key for the divergence list: "request/method.md#PRI request HTTP2".</summary>
    public string Key => $"{File}#{Title}";

    public override string ToString() => Key;
}

/// <summary>
/// Reads shared/conformance/http1-llhttp/{request,response}/*.md following the byte-conversion
/// rules in shared/conformance/SOURCES.md (section http1-llhttp), which describe llhttp's md-test.ts.
/// </summary>
internal static class LlhttpCorpus
{
    public static string Root()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Sidecar.sln"))) dir = Path.GetDirectoryName(dir);
        if (dir is null) throw new InvalidOperationException("Sidecar.sln not found above " + AppContext.BaseDirectory);
        string root = Path.GetFullPath(Path.Combine(dir, "..", "shared", "conformance", "http1-llhttp"));
        if (!Directory.Exists(root)) throw new InvalidOperationException("conformance corpus missing: " + root);
        return root;
    }

    public static List<LlhttpCase> Load()
    {
        string root = Root();
        var cases = new List<LlhttpCase>();
        foreach (string kind in new[] { "request", "response" })
        {
            foreach (string path in Directory.GetFiles(Path.Combine(root, kind), "*.md").Order(StringComparer.Ordinal))
            {
                ParseFile($"{kind}/{Path.GetFileName(path)}", File.ReadAllText(path), cases);
            }
        }
        return cases;
    }

    private static void ParseFile(string file, string text, List<LlhttpCase> into)
    {
        string[] lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        string title = "";
        JsonElement? meta = null;
        string? input = null;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.StartsWith('#'))
            {
                title = line.TrimStart('#').Trim();
                meta = null;
                input = null;
            }
            else if (line.StartsWith("<!-- meta=", StringComparison.Ordinal))
            {
                string json = line["<!-- meta=".Length..line.LastIndexOf("-->", StringComparison.Ordinal)];
                meta = JsonDocument.Parse(json).RootElement.Clone();
            }
            else if (line.StartsWith("```", StringComparison.Ordinal) && line.Length > 3)
            {
                string lang = line[3..].Trim();
                var block = new StringBuilder();
                for (i++; i < lines.Length && lines[i] != "```"; i++) block.Append(lines[i]).Append('\n');
                if (lang == "http") input = block.ToString();
                else if (lang == "log" && meta is JsonElement m && input is not null)
                {
                    string type = m.GetProperty("type").GetString()!;
                    into.Add(new LlhttpCase
                    {
                        File = file,
                        Title = title,
                        Type = type,
                        Input = ToBytes(input),
                        Log = block.ToString().TrimEnd('\n').Split('\n'),
                        NoScan = m.TryGetProperty("noScan", out JsonElement ns) && ns.GetBoolean(),
                        Pause = m.TryGetProperty("pause", out _),
                        SkipBody = m.TryGetProperty("skipBody", out JsonElement sb) && sb.GetBoolean(),
                        Ordinal = into.Count,
                    });
                    meta = null;
                    input = null;
                }
            }
        }
    }

    /// <summary>
    /// SOURCES.md rules 1–4: drop the final LF, join "\"+LF continuations, LF → CRLF, expand escapes.
    /// Escapes yield characters and the text is then UTF-8 encoded, as llhttp's harness hands a JS
    /// string to the parser: the expected logs count "\xff" as two bytes (C3 BF), see
    /// request/sample.md "255 ASCII in header value" (len=8 for "ÿValue2").
    /// </summary>
    internal static byte[] ToBytes(string block)
    {
        string s = block.EndsWith('\n') ? block[..^1] : block;
        s = s.Replace("\\\n", "", StringComparison.Ordinal);
        s = s.Replace("\n", "\r\n", StringComparison.Ordinal);
        var text = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '\\' && i + 1 < s.Length)
            {
                char n = s[i + 1];
                int simple = n switch { 'r' => '\r', 'n' => '\n', 't' => '\t', 'f' => '\f', _ => -1 };
                if (simple >= 0)
                {
                    text.Append((char)simple);
                    i++;
                    continue;
                }
                if (n == 'x' && i + 3 < s.Length && IsHex(s[i + 2]) && IsHex(s[i + 3]))
                {
                    text.Append((char)Convert.ToByte(s.Substring(i + 2, 2), 16));
                    i += 3;
                    continue;
                }
                if (n is >= '0' and <= '7')
                {
                    int j = i + 1, v = 0;
                    while (j < s.Length && j < i + 4 && s[j] is >= '0' and <= '7') v = (v * 8) + (s[j++] - '0');
                    text.Append((char)v);
                    i = j - 1;
                    continue;
                }
            }
            text.Append(c);
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);
}
