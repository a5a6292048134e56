using System.Text.RegularExpressions;
using Sidecar.Core.Config.Envoy;

namespace Sidecar.Core.Tests.Config;

/// <summary>
/// Finds the Envoy field names the translators recognize by reading their source: the string literal given
/// as first argument to a FieldReader method (or to the local helpers that forward one), plus the
/// "{prefix}_headers_to_add/remove" pairs HeaderMutationTranslator builds. What each call does decides the
/// use: Unsupported → Refused, Ignore → Ignored, Has → only a reference, everything else → Read.
/// A new helper that takes a field name must be added to <see cref="Call"/>.
/// </summary>
internal static partial class TranslatorFieldScanner
{
    public static string TranslationDir => Path.Combine(RepoPaths.RepoRoot, "src", "Core", "Config", "Translation");

    [GeneratedRegex(@"(?:\.|\b)(Take|Has|Ignore|Unsupported|String|Bool|Integer|Duration|Enum|Message|Simple|Limit)\(\s*""([^""]*)""")]
    private static partial Regex Call();

    [GeneratedRegex(@"HeaderMutationTranslator\.Read\(\s*\w+\s*,\s*""([a-z]+)""\s*\)")]
    private static partial Regex HeaderPrefix();

    [GeneratedRegex(@"\(\s*prefix\s*\+\s*""(_[a-z_]+)""\s*\)")]
    private static partial Regex HeaderSuffix();

    [GeneratedRegex(@"\bEnum\((?<args>[^;]*?)\)\s*(?:switch|\?\?|;)")]
    private static partial Regex EnumCall();

    [GeneratedRegex(@"""([A-Z][A-Za-z0-9_]*)""")] // enum value names; Envoy spells some in mixed case (TLSv1_2)
    private static partial Regex UpperLiteral();

    [GeneratedRegex(@"new\(\s*""[^""]+""\s*,\s*""([^""]+)""\s*\)")]
    private static partial Regex ExtensionType();

    public sealed record Result(HashSet<(string Name, EnvoyFieldUse Use)> Uses, HashSet<string> References, HashSet<string> EnumValues);

    public static Result Scan()
    {
        HashSet<(string, EnvoyFieldUse)> uses = [];
        HashSet<string> refs = new(StringComparer.Ordinal);
        HashSet<string> enumValues = new(StringComparer.Ordinal);
        HashSet<string> prefixes = new(StringComparer.Ordinal);
        HashSet<string> suffixes = new(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(TranslationDir, "*.cs"))
        {
            string src = File.ReadAllText(file);
            foreach (Match m in Call().Matches(src))
            {
                string name = m.Groups[2].Value;
                if (name.StartsWith('@'))
                {
                    continue; // "@type" is the Any type URL, not a field
                }
                refs.Add(name);
                if (m.Groups[1].Value != "Has")
                {
                    uses.Add((name, m.Groups[1].Value switch
                    {
                        "Unsupported" => EnvoyFieldUse.Refused,
                        "Ignore" => EnvoyFieldUse.Ignored,
                        _ => EnvoyFieldUse.Read,
                    }));
                }
            }
            foreach (Match m in HeaderPrefix().Matches(src))
            {
                prefixes.Add(m.Groups[1].Value);
            }
            foreach (Match m in HeaderSuffix().Matches(src))
            {
                suffixes.Add(m.Groups[1].Value);
            }
            foreach (Match m in EnumCall().Matches(src))
            {
                foreach (Match v in UpperLiteral().Matches(m.Groups["args"].Value))
                {
                    enumValues.Add(v.Groups[1].Value);
                }
            }
        }
        foreach (string p in prefixes)
        {
            foreach (string s in suffixes)
            {
                refs.Add(p + s);
                uses.Add((p + s, EnvoyFieldUse.Read));
            }
        }
        return new Result(uses, refs, enumValues);
    }

    /// <summary>The typed_config message types declared in Translation/Extensions.cs.</summary>
    public static HashSet<string> ExtensionTypeNames() =>
        [.. ExtensionType().Matches(File.ReadAllText(Path.Combine(TranslationDir, "Extensions.cs"))).Select(m => m.Groups[1].Value)];
}
