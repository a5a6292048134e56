using System.Text;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>
/// Envoy <c>config.core.v3.DataSource</c>: exactly one of filename, inline_bytes (base64 in JSON/YAML),
/// inline_string or environment_variable. Files and variables are read once, when the config is loaded;
/// a missing one is a config error naming the path, as Envoy refuses the config.
/// </summary>
internal static class DataSourceTranslator
{
    public static byte[]? Read(FieldReader d)
    {
        TranslationContext ctx = d.Context;
        if (!d.IsValid)
        {
            return null;
        }
        byte[]? value = null;
        int kinds = 0;
        if (d.Take("filename") is { } fn && ctx.String(fn) is string path)
        {
            kinds++;
            try
            {
                value = File.ReadAllBytes(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                // Exception messages are resource keys in the trimmed binary: say it in words.
                string why = ex switch
                {
                    FileNotFoundException or DirectoryNotFoundException => "no such file",
                    UnauthorizedAccessException => "permission denied",
                    _ => "unreadable",
                };
                ctx.Error(fn, $"cannot read {path}: {why}");
            }
        }
        if (d.Take("inline_bytes") is { } bn && ctx.String(bn) is string b64)
        {
            kinds++;
            // protobuf JSON maps bytes to base64.
            try
            {
                value = Convert.FromBase64String(b64);
            }
            catch (FormatException)
            {
                ctx.Error(bn, "inline_bytes must be base64");
            }
        }
        if (d.String("inline_string") is string s)
        {
            kinds++;
            value = Encoding.UTF8.GetBytes(s);
        }
        if (d.Take("environment_variable") is { } en && ctx.String(en) is string variable)
        {
            kinds++;
            if (Environment.GetEnvironmentVariable(variable) is string v)
            {
                value = Encoding.UTF8.GetBytes(v);
            }
            else
            {
                ctx.Error(en, $"environment variable {variable} is not set");
            }
        }
        d.Finish();
        if (kinds > 1)
        {
            ctx.Error(d.Node, "only one of filename, inline_bytes, inline_string and environment_variable is allowed");
        }
        return value;
    }

    /// <summary>The data as UTF-8 text (PEM), or null with an error when it is absent.</summary>
    public static string? ReadText(TranslationContext ctx, ConfigNode? node, ConfigNode parent, string field)
    {
        if (node is null)
        {
            ctx.Error(parent, field + " is required");
            return null;
        }
        return Read(new FieldReader(ctx, node)) is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null;
    }
}
