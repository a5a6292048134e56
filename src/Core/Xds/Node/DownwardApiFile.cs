using System.Text;

namespace Sidecar.Core.Xds;

/// <summary>
/// Parses the Kubernetes Downward API volume format of <c>/etc/istio/pod/labels</c> and
/// <c>/etc/istio/pod/annotations</c>: one <c>key="value"</c> per line, the value a Go-quoted string
/// (escapes \" \\ \n \t \r and \xNN / \uNNNN). Lines without '=' are skipped, as istio-agent does; a value
/// that is not a valid quoted string makes the whole file invalid (istio-agent then ignores the file too).
/// </summary>
public static class DownwardApiFile
{
    public static bool TryParse(string text, out Dictionary<string, string> values, out string error)
    {
        values = new Dictionary<string, string>(StringComparer.Ordinal);
        error = "";
        foreach (string rawLine in text.Split('\n'))
        {
            int eq = rawLine.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0) continue;
            string key = rawLine[..eq];
            if (!TryUnquote(rawLine.AsSpan(eq + 1), out string value))
            {
                error = $"line for '{key}': value is not a quoted string";
                values.Clear();
                return false;
            }
            values[key] = value;
        }
        return true;
    }

    private static bool TryUnquote(ReadOnlySpan<char> s, out string value)
    {
        value = "";
        if (s.Length < 2 || s[0] != '"' || s[^1] != '"') return false;
        var sb = new StringBuilder(s.Length);
        for (int i = 1; i < s.Length - 1; i++)
        {
            char c = s[i];
            if (c == '"') return false;
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (++i >= s.Length - 1) return false;
            switch (s[i])
            {
                case '"': sb.Append('"'); break;
                case '\\': sb.Append('\\'); break;
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'x' when i + 2 < s.Length - 1 && TryHex(s.Slice(i + 1, 2), out int x):
                    sb.Append((char)x);
                    i += 2;
                    break;
                case 'u' when i + 4 < s.Length - 1 && TryHex(s.Slice(i + 1, 4), out int u):
                    sb.Append((char)u);
                    i += 4;
                    break;
                default: return false;
            }
        }
        value = sb.ToString();
        return true;
    }

    private static bool TryHex(ReadOnlySpan<char> digits, out int value) =>
        int.TryParse(digits, System.Globalization.NumberStyles.AllowHexSpecifier, null, out value);
}
