using System.Text;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>
/// Reads the fields of one protobuf message from a map node. Field names are matched in snake_case
/// after converting lowerCamelCase (protojson accepts both spellings). <see cref="Finish"/> reports every
/// field that was not taken as unsupported: that is what makes the translator strict by construction.
/// </summary>
internal sealed class FieldReader
{
    private readonly TranslationContext _ctx;
    private readonly Dictionary<string, KeyValuePair<string, ConfigNode>> _fields = new(StringComparer.Ordinal);
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    public FieldReader(TranslationContext ctx, ConfigNode node)
    {
        _ctx = ctx;
        Node = node;
        if (node is not ConfigMap map)
        {
            ctx.Error(node, "expected an object");
            return;
        }
        IsValid = true;
        foreach (KeyValuePair<string, ConfigNode> e in map.Entries)
        {
            string snake = ToSnakeCase(e.Key);
            if (!_fields.TryAdd(snake, e))
            {
                ctx.Error(e.Value, $"field given twice (\"{_fields[snake].Key}\" and \"{e.Key}\")");
            }
        }
    }

    public ConfigNode Node { get; }

    /// <summary>False when the node was not a map (the error is already reported).</summary>
    public bool IsValid { get; }

    public TranslationContext Context => _ctx;

    /// <summary>The field's value, or null when absent or JSON/YAML null (protojson: null means "not set").</summary>
    public ConfigNode? Take(string name)
    {
        if (!_fields.TryGetValue(name, out KeyValuePair<string, ConfigNode> e))
        {
            return null;
        }
        _taken.Add(name);
        return e.Value is ConfigScalar { Kind: ScalarKind.Null } ? null : e.Value;
    }

    public bool Has(string name) => _fields.TryGetValue(name, out KeyValuePair<string, ConfigNode> e) &&
        e.Value is not ConfigScalar { Kind: ScalarKind.Null };

    /// <summary>Accepts a field without acting on it (each use is documented in docs/CONFIG.md).</summary>
    public void Ignore(string name) => _taken.Add(name);

    /// <summary>Accepts every field of this message without reading it: only for telemetry extensions whose whole
    /// configuration is recorded as not enforced (TranslationContext.NotEnforced).</summary>
    public void IgnoreAll()
    {
        foreach (string name in _fields.Keys)
        {
            _taken.Add(name);
        }
    }

    /// <summary>Marks a field as known-but-unimplemented with an explanation.</summary>
    public void Unsupported(string name, string what)
    {
        if (Take(name) is ConfigNode n)
        {
            _ctx.Unsupported(n, what);
        }
    }

    public string? String(string name) => Take(name) is ConfigNode n ? _ctx.String(n) : null;

    public bool? Bool(string name) => Take(name) is ConfigNode n ? _ctx.Bool(n) : null;

    public long? Integer(string name, long min, long max) => Take(name) is ConfigNode n ? _ctx.Integer(n, min, max) : null;

    public TimeSpan? Duration(string name) => Take(name) is ConfigNode n ? _ctx.Duration(n) : null;

    public string? Enum(string name, params string[] supported) => Take(name) is ConfigNode n ? _ctx.Enum(n, supported) : null;

    /// <summary>Nested message reader, or null when absent.</summary>
    public FieldReader? Message(string name) => Take(name) is ConfigNode n ? new FieldReader(_ctx, n) : null;

    /// <summary>Reports every field not taken. Call once after reading all supported fields.</summary>
    public void Finish()
    {
        foreach (KeyValuePair<string, KeyValuePair<string, ConfigNode>> f in _fields)
        {
            if (!_taken.Contains(f.Key))
            {
                _ctx.Unsupported(f.Value.Value);
            }
        }
    }

    /// <summary>lowerCamelCase to snake_case ("statPrefix" to "stat_prefix"); "@type" and snake names are unchanged.</summary>
    internal static string ToSnakeCase(string name)
    {
        if (!name.AsSpan().ContainsAnyInRange('A', 'Z'))
        {
            return name;
        }
        StringBuilder sb = new(name.Length + 4);
        foreach (char c in name)
        {
            if (char.IsAsciiLetterUpper(c))
            {
                sb.Append('_').Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }
}
