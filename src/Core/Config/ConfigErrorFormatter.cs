using System.Text;

namespace Sidecar.Core.Config;

/// <summary>Renders errors as "path: message" lines, the format printed by <c>sidecar validate</c>.</summary>
public static class ConfigErrorFormatter
{
    public static string FormatOne(ConfigError error) =>
        error.Path.Length == 0 ? "(root): " + error.Message : error.Path + ": " + error.Message;

    /// <summary>One line per error, each ending with '\n'.</summary>
    public static string Format(IEnumerable<ConfigError> errors)
    {
        StringBuilder sb = new();
        foreach (ConfigError e in errors)
        {
            sb.Append(FormatOne(e)).Append('\n');
        }
        return sb.ToString();
    }
}
