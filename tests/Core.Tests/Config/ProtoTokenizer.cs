using System.Text;

namespace Sidecar.Core.Tests.Config;

/// <summary>
/// Splits a .proto file into tokens: identifiers (dotted names, possibly with a leading '.'), numbers,
/// string literals (quotes kept so they never look like identifiers) and single-character symbols.
/// Comments are dropped here so the parser never sees a '{' inside a comment.
/// </summary>
internal static class ProtoTokenizer
{
    public static List<string> Tokenize(string text)
    {
        List<string> tokens = [];
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }
            }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                int end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? text.Length : end + 2;
            }
            else if (c is '"' or '\'')
            {
                StringBuilder sb = new();
                sb.Append(c);
                i++;
                while (i < text.Length && text[i] != c)
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        sb.Append(text[i++]);
                    }
                    sb.Append(text[i++]);
                }
                i++;
                tokens.Add(sb.Append(c).ToString());
            }
            else if (char.IsAsciiLetterOrDigit(c) || c == '_' || (c == '.' && i + 1 < text.Length && (char.IsAsciiLetter(text[i + 1]) || text[i + 1] == '_')))
            {
                int start = i++;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or '.'))
                {
                    i++;
                }
                tokens.Add(text[start..i]);
            }
            else
            {
                tokens.Add(c.ToString());
                i++;
            }
        }
        return tokens;
    }
}
