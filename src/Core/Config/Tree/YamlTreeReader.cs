using System.Collections.Immutable;
using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Sidecar.Core.Config.Tree;

/// <summary>
/// Builds a <see cref="ConfigNode"/> tree from YAML using only YamlDotNet's low-level event parser:
/// the object serializer is reflection-based and would break native AOT. Supports anchors/aliases
/// (copied, so each copy knows its own path) and <c>&lt;&lt;</c> merge keys (explicit keys win).
/// Plain scalars are typed with the YAML 1.2 core schema, which matches how Envoy's YAML loader
/// hands values to the protobuf JSON parser. Structural problems stop at the first error: after a
/// syntax error the rest of the stream is meaningless anyway.
/// </summary>
public static class YamlTreeReader
{
    private const string MergeKey = "<<";
    private static readonly System.Buffers.SearchValues<char> NumberChars = System.Buffers.SearchValues.Create("0123456789+-.eE");
    private static readonly System.Buffers.SearchValues<char> Digits = System.Buffers.SearchValues.Create("0123456789");

    public static ConfigResult<ConfigNode> Read(string text)
    {
        try
        {
            Builder b = new(new Parser(new StringReader(text)));
            return ConfigResult.Success<ConfigNode>(b.ReadDocument());
        }
        catch (YamlException ex)
        {
            return ConfigResult.Failure<ConfigNode>("", $"YAML syntax error at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}");
        }
        catch (InvalidOperationException ex)
        {
            // YamlDotNet's scanner throws this (not YamlException) on some malformed flow collections.
            return ConfigResult.Failure<ConfigNode>("", "YAML syntax error: " + ex.Message);
        }
        catch (TreeException ex)
        {
            return ConfigResult.Failure<ConfigNode>(ex.Path, ex.Message);
        }
    }

    private sealed class TreeException(string path, string message) : Exception(message)
    {
        public string Path { get; } = path;
    }

    private sealed class Builder(IParser parser)
    {
        private readonly Dictionary<string, ConfigNode> _anchors = new(StringComparer.Ordinal);
        private int _order;

        public ConfigNode ReadDocument()
        {
            Expect<StreamStart>();
            if (parser.Current is StreamEnd)
            {
                throw new TreeException("", "empty document");
            }
            Expect<DocumentStart>();
            ConfigNode root = ReadNode("");
            Expect<DocumentEnd>();
            if (parser.Current is DocumentStart)
            {
                throw new TreeException("", "multiple YAML documents in one file are not supported");
            }
            return root;
        }

        private void Expect<T>()
            where T : ParsingEvent
        {
            if (parser.Current is null && !parser.MoveNext())
            {
                throw new TreeException("", "unexpected end of YAML stream");
            }
            if (parser.Current is not T)
            {
                throw new TreeException("", $"unexpected YAML event {parser.Current?.GetType().Name} at line {parser.Current?.Start.Line}");
            }
            parser.MoveNext();
        }

        private ConfigNode ReadNode(string path)
        {
            ParsingEvent ev = parser.Current ?? throw new TreeException(path, "unexpected end of YAML stream");
            int line = (int)ev.Start.Line;
            parser.MoveNext();
            ConfigNode node;
            switch (ev)
            {
                case AnchorAlias alias:
                    if (!_anchors.TryGetValue(alias.Value.Value, out ConfigNode? target))
                    {
                        throw new TreeException(path, $"unknown YAML alias *{alias.Value.Value}");
                    }
                    return target.Rebase(path, ref _order);
                case Scalar s:
                    node = new ConfigScalar(path, s.Value, Resolve(s, path), _order++, line);
                    break;
                case SequenceStart:
                    node = ReadSequence(path, line);
                    break;
                case MappingStart:
                    node = ReadMapping(path, line);
                    break;
                default:
                    throw new TreeException(path, $"unexpected YAML event {ev.GetType().Name} at line {line}");
            }
            if (ev is NodeEvent ne && !ne.Anchor.IsEmpty)
            {
                _anchors[ne.Anchor.Value] = node;
            }
            return node;
        }

        private ConfigList ReadSequence(string path, int line)
        {
            int self = _order++;
            ImmutableArray<ConfigNode>.Builder items = ImmutableArray.CreateBuilder<ConfigNode>();
            while (parser.Current is not SequenceEnd)
            {
                items.Add(ReadNode(ConfigNode.ItemPath(path, items.Count)));
            }
            parser.MoveNext();
            return new ConfigList(path, items.ToImmutable(), self, line);
        }

        private ConfigMap ReadMapping(string path, int line)
        {
            int self = _order++;
            List<KeyValuePair<string, ConfigNode>> entries = [];
            HashSet<string> seen = new(StringComparer.Ordinal);
            List<ConfigMap> merges = [];
            while (parser.Current is not MappingEnd)
            {
                if (parser.Current is not Scalar key)
                {
                    throw new TreeException(path, "only scalar mapping keys are supported");
                }
                parser.MoveNext();
                if (key.Value == MergeKey && key.Style == ScalarStyle.Plain)
                {
                    CollectMerges(ReadNode(ConfigNode.ChildPath(path, MergeKey)), merges, path);
                    continue;
                }
                string childPath = ConfigNode.ChildPath(path, key.Value);
                if (!seen.Add(key.Value))
                {
                    throw new TreeException(childPath, "duplicate key");
                }
                entries.Add(new(key.Value, ReadNode(childPath)));
            }
            parser.MoveNext();
            // YAML merge semantics: explicit keys override merged ones; earlier merge sources override later ones.
            foreach (ConfigMap source in merges)
            {
                foreach (KeyValuePair<string, ConfigNode> e in source.Entries)
                {
                    if (seen.Add(e.Key))
                    {
                        entries.Add(new(e.Key, e.Value.Rebase(ConfigNode.ChildPath(path, e.Key), ref _order)));
                    }
                }
            }
            return new ConfigMap(path, [.. entries], self, line);
        }

        private static void CollectMerges(ConfigNode value, List<ConfigMap> merges, string path)
        {
            switch (value)
            {
                case ConfigMap m:
                    merges.Add(m);
                    break;
                case ConfigList l when l.Items.All(i => i is ConfigMap):
                    merges.AddRange(l.Items.Cast<ConfigMap>());
                    break;
                default:
                    throw new TreeException(path, "merge key << needs a mapping or a list of mappings");
            }
        }

        private static ScalarKind Resolve(Scalar s, string path)
        {
            if (!s.Tag.IsEmpty && !s.Tag.IsNonSpecific)
            {
                return s.Tag.Value switch
                {
                    "tag:yaml.org,2002:str" => ScalarKind.String,
                    "tag:yaml.org,2002:int" or "tag:yaml.org,2002:float" => ScalarKind.Number,
                    "tag:yaml.org,2002:bool" => ScalarKind.Bool,
                    "tag:yaml.org,2002:null" => ScalarKind.Null,
                    _ => throw new TreeException(path, $"unsupported YAML tag {s.Tag.Value}"),
                };
            }
            if (s.Style != ScalarStyle.Plain)
            {
                return ScalarKind.String;
            }
            return ResolvePlain(s.Value);
        }

        /// <summary>YAML 1.2 core schema resolution of an untagged plain scalar.</summary>
        internal static ScalarKind ResolvePlain(string v)
        {
            switch (v)
            {
                case "" or "~" or "null" or "Null" or "NULL":
                    return ScalarKind.Null;
                case "true" or "True" or "TRUE" or "false" or "False" or "FALSE":
                    return ScalarKind.Bool;
                case ".inf" or ".Inf" or ".INF" or "+.inf" or "-.inf" or ".nan" or ".NaN" or ".NAN":
                    return ScalarKind.Number;
            }
            if (v.StartsWith("0x", StringComparison.Ordinal) && v.Length > 2 &&
                long.TryParse(v.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _))
            {
                return ScalarKind.Number;
            }
            bool numberChars = v.AsSpan().IndexOfAnyExcept(NumberChars) < 0 && v.AsSpan().IndexOfAny(Digits) >= 0;
            return numberChars && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                ? ScalarKind.Number
                : ScalarKind.String;
        }
    }
}
