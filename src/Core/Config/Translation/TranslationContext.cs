using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>
/// Shared state of one translation: collected errors (every error is kept, not only the first, so
/// an operator fixes a file in one round trip), the typed scalar readers, and the cluster references
/// that are checked once all clusters are known.
/// </summary>
internal sealed class TranslationContext
{
    private readonly List<(int Order, ConfigError Error)> _errors = [];
    private readonly List<(ConfigNode Node, string Cluster)> _clusterRefs = [];

    public bool HasErrors => _errors.Count > 0;

    /// <summary>Errors in document order (node pre-order), so the "first error" is the first one in the file.</summary>
    public ImmutableArray<ConfigError> Errors =>
        [.. _errors.Select((e, i) => (e.Order, i, e.Error)).OrderBy(t => t.Order).ThenBy(t => t.i).Select(t => t.Error)];

    public void Error(ConfigNode node, string message) => _errors.Add((node.Order, new ConfigError(node.Path, message)));

    /// <summary>A field or value we deliberately do not implement: refusing beats silently behaving differently from Envoy.</summary>
    public void Unsupported(ConfigNode node, string? what = null) =>
        Error(node, what is null ? "unsupported field" : "unsupported: " + what);

    private readonly List<string> _notEnforced = [];

    /// <summary>
    /// An extension or field accepted without being acted on (telemetry we do not produce, a filter proven to do
    /// nothing for this config). Kept as "path: what" so the host can log each once per config version.
    /// </summary>
    public void NotEnforced(ConfigNode node, string what) => _notEnforced.Add(node.Path + ": " + what);

    /// <summary>Number of notes so far; a translator slices <see cref="NotEnforcedSince"/> from here for its resource.</summary>
    public int NotEnforcedCount => _notEnforced.Count;

    public ImmutableArray<string> NotEnforcedSince(int start) => [.. _notEnforced.Skip(start)];

    public void ReferenceCluster(ConfigNode node, string cluster) => _clusterRefs.Add((node, cluster));

    public IReadOnlyList<(ConfigNode Node, string Cluster)> ClusterReferences => _clusterRefs;

    public string? String(ConfigNode node)
    {
        if (node is ConfigScalar { Kind: not ScalarKind.Null } s)
        {
            return s.Text;
        }
        Error(node, "expected a string");
        return null;
    }

    public bool? Bool(ConfigNode node)
    {
        if (node is ConfigScalar { Kind: ScalarKind.Bool } s)
        {
            return s.Text.Equals("true", StringComparison.OrdinalIgnoreCase);
        }
        Error(node, "expected true or false");
        return null;
    }

    /// <summary>Integers and protobuf wrappers (UInt32Value…): plain numbers, or numeric strings as protojson allows.</summary>
    public long? Integer(ConfigNode node, long min, long max)
    {
        if (node is ConfigScalar { Kind: ScalarKind.Number or ScalarKind.String } s &&
            long.TryParse(s.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
        {
            if (v >= min && v <= max)
            {
                return v;
            }
            Error(node, $"value {v} out of range [{min}, {max}]");
            return null;
        }
        Error(node, "expected an integer");
        return null;
    }

    /// <summary>An integer that the model stores as <see cref="int"/>; larger values mean "effectively unlimited" and are clamped.</summary>
    public int? ClampedInt(ConfigNode node, long min = 0, long max = uint.MaxValue) =>
        Integer(node, min, max) is long v ? (int)Math.Min(v, int.MaxValue) : null;

    /// <summary>protobuf Duration JSON form: "5s", "0.25s", "1.000000001s" (non-negative here: all our durations are timeouts).</summary>
    public TimeSpan? Duration(ConfigNode node)
    {
        if (node is ConfigScalar { Kind: ScalarKind.String } s && TryParseDuration(s.Text, out TimeSpan value))
        {
            return value;
        }
        Error(node, "expected a duration like \"5s\" or \"0.25s\"");
        return null;
    }

    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        if (text.Length < 2 || text[^1] != 's')
        {
            return false;
        }
        ReadOnlySpan<char> body = text.AsSpan(0, text.Length - 1);
        int dot = body.IndexOf('.');
        ReadOnlySpan<char> secs = dot < 0 ? body : body[..dot];
        ReadOnlySpan<char> frac = dot < 0 ? [] : body[(dot + 1)..];
        if (secs.IsEmpty || frac.Length > 9 || (dot >= 0 && frac.IsEmpty) ||
            secs.IndexOfAnyExceptInRange('0', '9') >= 0 || frac.IndexOfAnyExceptInRange('0', '9') >= 0 ||
            !long.TryParse(secs, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds) ||
            seconds > 315_576_000_000L)
        {
            return false;
        }
        long nanos = 0;
        if (!frac.IsEmpty)
        {
            nanos = long.Parse(frac, NumberStyles.None, CultureInfo.InvariantCulture);
            for (int i = frac.Length; i < 9; i++)
            {
                nanos *= 10;
            }
        }
        value = TimeSpan.FromTicks((seconds * TimeSpan.TicksPerSecond) + (nanos / 100));
        return true;
    }

    /// <summary>A protobuf enum given by name; names outside <paramref name="supported"/> are errors.</summary>
    public string? Enum(ConfigNode node, params string[] supported)
    {
        string? name = String(node);
        if (name is null)
        {
            return null;
        }
        if (Array.IndexOf(supported, name) >= 0)
        {
            return name;
        }
        Error(node, $"unsupported value \"{name}\" (supported: {string.Join(", ", supported)})");
        return null;
    }

    public ConfigList? List(ConfigNode node)
    {
        if (node is ConfigList l)
        {
            return l;
        }
        Error(node, "expected a list");
        return null;
    }

    /// <summary>Items of a list field, or none (with an error) when the node is not a list.</summary>
    public ImmutableArray<ConfigNode> Items(ConfigNode? node) =>
        node is null ? [] : List(node)?.Items ?? [];

    public ImmutableArray<string> Strings(ConfigNode? node)
    {
        ImmutableArray<string>.Builder b = ImmutableArray.CreateBuilder<string>();
        foreach (ConfigNode item in Items(node))
        {
            if (String(item) is string s)
            {
                b.Add(s);
            }
        }
        return b.ToImmutable();
    }

    /// <summary>
    /// Compiles an RE2 pattern for whole-string matching (Envoy safe_regex semantics).
    /// NonBacktracking gives RE2's linear-time guarantee and works under native AOT (no Reflection.Emit,
    /// unlike RegexOptions.Compiled); it also rejects backreferences/lookarounds, which RE2 lacks too.
    /// </summary>
    public Regex? Regex(ConfigNode node, bool ignoreCase = false)
    {
        string? pattern = String(node);
        if (pattern is null)
        {
            return null;
        }
        RegexOptions options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None);
        try
        {
            return new Regex(@"\A(?:" + pattern + @")\z", options);
        }
        catch (ArgumentException ex)
        {
            Error(node, "invalid regex: " + ex.Message);
            return null;
        }
        catch (NotSupportedException ex)
        {
            Error(node, "unsupported regex construct: " + ex.Message);
            return null;
        }
    }
}
