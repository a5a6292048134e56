using System.Collections.Immutable;

namespace Sidecar.Core.Config.Tree;

/// <summary>
/// One node of the format-neutral config tree. YAML files, JSON files and (later) xDS protobuf resources
/// rendered through the proto3 canonical JSON mapping all become this tree, so a single translator
/// (<see cref="Translation.EnvoyBootstrapTranslator"/>) turns every source into the model.
/// Every node carries its path (for example <c>static_resources.listeners[0].name</c>) so errors can
/// name the exact field without the translator threading paths around.
/// </summary>
public abstract class ConfigNode
{
    private protected ConfigNode(string path, int order, int line)
    {
        Path = path;
        Order = order;
        Line = line;
    }

    /// <summary>Dotted path from the document root; list items as <c>[i]</c>; "" for the root.</summary>
    public string Path { get; }

    /// <summary>1-based source line (YAML), 0 when unknown (JSON).</summary>
    public int Line { get; }

    /// <summary>Pre-order position in the document; used to report errors in document order.</summary>
    internal int Order { get; }

    /// <summary>The same subtree re-rooted at <paramref name="path"/> (YAML aliases and merge keys copy nodes).</summary>
    internal abstract ConfigNode Rebase(string path, ref int order);

    /// <summary>Path of a map child. Keys that would make the path ambiguous are bracket-quoted.</summary>
    public static string ChildPath(string parent, string key)
    {
        bool plain = key.Length > 0 && key.AsSpan().IndexOfAny(".[]\" ") < 0;
        if (!plain)
        {
            return parent + "[\"" + key + "\"]";
        }
        return parent.Length == 0 ? key : parent + "." + key;
    }

    /// <summary>Path of a list item.</summary>
    public static string ItemPath(string parent, int index) => parent + "[" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]";
}

/// <summary>How a scalar was written; decides JSON rendering and which typed reads succeed.</summary>
public enum ScalarKind : byte { String, Number, Bool, Null }

/// <summary>A leaf: the original text plus its resolved kind (a quoted YAML "5" is a String, plain 5 a Number).</summary>
public sealed class ConfigScalar : ConfigNode
{
    public ConfigScalar(string path, string text, ScalarKind kind, int order = 0, int line = 0)
        : base(path, order, line)
    {
        Text = text;
        Kind = kind;
    }

    public string Text { get; }
    public ScalarKind Kind { get; }

    internal override ConfigNode Rebase(string path, ref int order) => new ConfigScalar(path, Text, Kind, order++, Line);
}

/// <summary>An ordered mapping. Keys are unique (readers reject duplicates) and kept as written.</summary>
public sealed class ConfigMap : ConfigNode
{
    public ConfigMap(string path, ImmutableArray<KeyValuePair<string, ConfigNode>> entries, int order = 0, int line = 0)
        : base(path, order, line)
    {
        Entries = entries;
    }

    public ImmutableArray<KeyValuePair<string, ConfigNode>> Entries { get; }

    /// <summary>Exact-key lookup (no name normalisation; see <see cref="Translation.FieldReader"/> for that).</summary>
    public ConfigNode? Get(string key)
    {
        foreach (KeyValuePair<string, ConfigNode> e in Entries)
        {
            if (e.Key == key)
            {
                return e.Value;
            }
        }
        return null;
    }

    internal override ConfigNode Rebase(string path, ref int order)
    {
        int self = order++;
        ImmutableArray<KeyValuePair<string, ConfigNode>>.Builder b = ImmutableArray.CreateBuilder<KeyValuePair<string, ConfigNode>>(Entries.Length);
        foreach (KeyValuePair<string, ConfigNode> e in Entries)
        {
            b.Add(new(e.Key, e.Value.Rebase(ChildPath(path, e.Key), ref order)));
        }
        return new ConfigMap(path, b.MoveToImmutable(), self, Line);
    }
}

/// <summary>An ordered sequence.</summary>
public sealed class ConfigList : ConfigNode
{
    public ConfigList(string path, ImmutableArray<ConfigNode> items, int order = 0, int line = 0)
        : base(path, order, line)
    {
        Items = items;
    }

    public ImmutableArray<ConfigNode> Items { get; }

    internal override ConfigNode Rebase(string path, ref int order)
    {
        int self = order++;
        ImmutableArray<ConfigNode>.Builder b = ImmutableArray.CreateBuilder<ConfigNode>(Items.Length);
        for (int i = 0; i < Items.Length; i++)
        {
            b.Add(Items[i].Rebase(ItemPath(path, i), ref order));
        }
        return new ConfigList(path, b.MoveToImmutable(), self, Line);
    }
}
