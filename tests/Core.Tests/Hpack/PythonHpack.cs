using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>
/// Debian's python3-hpack 4.0.0 decoder as an independent peer (build.sh REQUIRED installs it in CI). Input: per
/// story, per block, the SETTINGS_HEADER_TABLE_SIZE values sent before it and the block in hex; output: the decoded
/// header lists, or the decoder's error for that block.
/// </summary>
internal static class PythonHpack
{
    private const string Script = """
        import json, sys
        from hpack import Decoder
        out = []
        for story in json.load(sys.stdin):
            d = Decoder(max_header_list_size=1 << 30)
            blocks = []
            for block in story:
                for size in block["settings"]:
                    d.max_allowed_table_size = size
                try:
                    fields = d.decode(bytes.fromhex(block["wire"]), raw=True)
                    blocks.append({"headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in fields]})
                except Exception as e:
                    blocks.append({"error": type(e).__name__ + ": " + str(e)})
            out.append(blocks)
        json.dump(out, sys.stdout)
        """;

    public sealed record Block(List<int> Settings, string Wire);

    /// <summary>Decodes every story with a fresh python Decoder per story; one process for all of them.</summary>
    public static List<List<(List<Field>? Fields, string? Error)>> Decode(List<List<Block>> stories)
    {
        var input = new StringBuilder("[");
        for (int s = 0; s < stories.Count; s++)
        {
            if (s > 0) input.Append(',');
            input.Append('[');
            for (int b = 0; b < stories[s].Count; b++)
            {
                if (b > 0) input.Append(',');
                Block block = stories[s][b];
                input.Append("{\"settings\":[").AppendJoin(',', block.Settings).Append("],\"wire\":\"").Append(block.Wire).Append("\"}");
            }
            input.Append(']');
        }
        input.Append(']');

        var start = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("cannot start /usr/bin/python3");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input.ToString());
        process.StandardInput.Close();
        if (!process.WaitForExit(120_000))
        {
            process.Kill();
            throw new TimeoutException("python3-hpack decode took over 120 s");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"python3-hpack failed (exit {process.ExitCode}; is python3-hpack installed? ./build.sh setup installs it): {stderr.Result}");
        }

        using JsonDocument doc = JsonDocument.Parse(stdout.Result);
        var result = new List<List<(List<Field>?, string?)>>();
        foreach (JsonElement story in doc.RootElement.EnumerateArray())
        {
            var blocks = new List<(List<Field>?, string?)>();
            foreach (JsonElement block in story.EnumerateArray())
            {
                if (block.TryGetProperty("error", out JsonElement error))
                {
                    blocks.Add((null, error.GetString()));
                    continue;
                }
                var fields = new List<Field>();
                foreach (JsonElement pair in block.GetProperty("headers").EnumerateArray())
                {
                    fields.Add(new Field(pair[0].GetString()!, pair[1].GetString()!));
                }
                blocks.Add((fields, null));
            }
            result.Add(blocks);
        }
        return result;
    }
}
