using System.Globalization;

namespace Sidecar.Core.Tests.Config;

/// <summary>A field as declared: <see cref="TypeName"/> is as written (relative) until <see cref="ProtoSchema.Resolve"/>.</summary>
internal sealed record ProtoField(string Name, int Number, string Label, string TypeName, string? MapKey);

internal sealed class ProtoMessage(string fullName, string scope, string package)
{
    public string FullName { get; } = fullName;

    /// <summary>The scope relative type names are looked up from (the message itself, then outwards).</summary>
    public string Scope { get; } = scope;

    public string Package { get; } = package;

    public Dictionary<string, ProtoField> Fields { get; } = new(StringComparer.Ordinal);
}

internal sealed class ProtoEnum(string fullName)
{
    public string FullName { get; } = fullName;

    public Dictionary<string, int> Values { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Every message and enum of a set of .proto files, keyed by fully qualified name. The parser understands
/// what Envoy's API files use: package, imports, options (including aggregate <c>{...}</c> values), nested
/// messages and enums, oneofs, <c>map&lt;K, V&gt;</c>, <c>repeated</c>/<c>optional</c>, <c>reserved</c>,
/// <c>extensions</c>, <c>extend</c> and <c>service</c> blocks (skipped).
/// </summary>
internal sealed class ProtoSchema
{
    private static readonly HashSet<string> Scalars = new(StringComparer.Ordinal)
    {
        "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
        "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
    };

    public Dictionary<string, ProtoMessage> Messages { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, ProtoEnum> Enums { get; } = new(StringComparer.Ordinal);

    public int FileCount { get; private set; }

    public static ProtoSchema Load(IEnumerable<string> roots)
    {
        ProtoSchema schema = new();
        foreach (string root in roots)
        {
            foreach (string file in Directory.EnumerateFiles(root, "*.proto", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                try
                {
                    new Parser(schema, ProtoTokenizer.Tokenize(File.ReadAllText(file))).ParseFile();
                }
                catch (FormatException ex)
                {
                    throw new FormatException($"{file}: {ex.Message}", ex);
                }
                schema.FileCount++;
            }
        }
        return schema;
    }

    /// <summary>
    /// The protobuf name lookup: a relative name is tried in the innermost scope first, then each enclosing
    /// scope (message, then package components) outwards; a leading '.' means fully qualified. Names not
    /// defined in the parsed files (google.protobuf.* well-known types) are returned as written.
    /// </summary>
    public string Resolve(string typeName, string scope)
    {
        if (Scalars.Contains(typeName))
        {
            return typeName;
        }
        if (typeName.StartsWith('.'))
        {
            return typeName[1..];
        }
        for (string s = scope; ; s = s[..s.LastIndexOf('.')])
        {
            string candidate = s.Length == 0 ? typeName : s + "." + typeName;
            if (Messages.ContainsKey(candidate) || Enums.ContainsKey(candidate))
            {
                return candidate;
            }
            if (s.Length == 0)
            {
                return typeName;
            }
            if (!s.Contains('.', StringComparison.Ordinal))
            {
                s = "." + s; // so the next step yields the empty (root) scope
            }
        }
    }

    /// <summary>The field's type spelled like the catalog: "repeated X", "map&lt;K, V&gt;" or "X", with X resolved.</summary>
    public string Describe(ProtoMessage message, ProtoField field)
    {
        string type = Resolve(field.TypeName, message.Scope);
        return field.MapKey is not null ? $"map<{field.MapKey}, {type}>"
            : field.Label == "repeated" ? "repeated " + type
            : type;
    }

    private sealed class Parser(ProtoSchema schema, List<string> tokens)
    {
        private int _pos;
        private string _package = "";

        private string Peek => _pos < tokens.Count ? tokens[_pos] : "";

        private string Next() => _pos < tokens.Count ? tokens[_pos++] : throw new FormatException("unexpected end of file");

        private void Expect(string token)
        {
            string got = Next();
            if (got != token)
            {
                throw new FormatException($"expected '{token}' but found '{got}' at token {_pos}");
            }
        }

        public void ParseFile()
        {
            while (_pos < tokens.Count)
            {
                switch (Peek)
                {
                    case "package":
                        Next();
                        _package = Next();
                        Expect(";");
                        break;
                    case "message":
                        Next();
                        ParseMessage(_package);
                        break;
                    case "enum":
                        Next();
                        ParseEnum(_package);
                        break;
                    case "service" or "extend":
                        Next();
                        SkipBlock();
                        break;
                    case ";":
                        Next();
                        break;
                    default: // syntax, import, option
                        SkipStatement();
                        break;
                }
            }
        }

        private static string Join(string scope, string name) => scope.Length == 0 ? name : scope + "." + name;

        private void ParseMessage(string scope)
        {
            string fullName = Join(scope, Next());
            ProtoMessage message = new(fullName, fullName, _package);
            schema.Messages[fullName] = message;
            Expect("{");
            ParseMessageBody(message, closing: "}");
        }

        private void ParseMessageBody(ProtoMessage message, string closing)
        {
            while (Peek != closing)
            {
                switch (Peek)
                {
                    case "message":
                        Next();
                        ParseMessage(message.FullName);
                        break;
                    case "enum":
                        Next();
                        ParseEnum(message.FullName);
                        break;
                    case "oneof":
                        Next();
                        Next(); // oneof name: its fields belong to the message
                        Expect("{");
                        ParseMessageBody(message, "}");
                        break;
                    case "extend":
                        Next();
                        SkipBlock();
                        break;
                    case "option" or "reserved" or "extensions":
                        SkipStatement();
                        break;
                    case ";":
                        Next();
                        break;
                    default:
                        ParseField(message);
                        break;
                }
            }
            Next();
        }

        private void ParseField(ProtoMessage message)
        {
            string label = Peek is "repeated" or "optional" or "required" ? Next() : "";
            string type = Next();
            string? mapKey = null;
            if (type == "map" && Peek == "<")
            {
                Next();
                mapKey = Next();
                Expect(",");
                type = Next();
                Expect(">");
            }
            string name = Next();
            Expect("=");
            int number = int.Parse(Next(), CultureInfo.InvariantCulture);
            SkipStatement(); // field options up to ';'
            message.Fields[name] = new ProtoField(name, number, label, type, mapKey);
        }

        private void ParseEnum(string scope)
        {
            ProtoEnum e = new(Join(scope, Next()));
            schema.Enums[e.FullName] = e;
            Expect("{");
            while (Peek != "}")
            {
                if (Peek is "option" or "reserved")
                {
                    SkipStatement();
                    continue;
                }
                if (Peek == ";")
                {
                    Next();
                    continue;
                }
                string name = Next();
                Expect("=");
                bool negative = Peek == "-" && Next() == "-";
                int value = int.Parse(Next(), CultureInfo.InvariantCulture);
                e.Values[name] = negative ? -value : value;
                SkipStatement();
            }
            Next();
        }

        /// <summary>Skips to the ';' that ends a statement, stepping over nested (), [] and {} (aggregate option values).</summary>
        private void SkipStatement()
        {
            int depth = 0;
            while (true)
            {
                string t = Next();
                if (t is "(" or "[" or "{")
                {
                    depth++;
                }
                else if (t is ")" or "]" or "}")
                {
                    depth--;
                }
                else if (t == ";" && depth == 0)
                {
                    return;
                }
            }
        }

        /// <summary>Skips "Name { ... }" (service, extend) with balanced braces.</summary>
        private void SkipBlock()
        {
            while (Next() != "{")
            {
            }
            for (int depth = 1; depth > 0;)
            {
                string t = Next();
                depth += t == "{" ? 1 : t == "}" ? -1 : 0;
            }
        }
    }
}
