using System.Globalization;
using System.Text;

namespace Sidecar.Core.Xds.Schema;

/// <summary>
/// The message and enum descriptors of the xDS resources and their extensions, parsed once from the
/// generated <see cref="EnvoySchemaText"/> (facts taken from Envoy's .proto files). No reflection: the
/// descriptors are plain objects built from UTF-8 data baked into the binary.
/// </summary>
public sealed class XdsSchema
{
    private static readonly Lazy<XdsSchema> LazyEnvoy = new(() => Parse(EnvoySchemaText.Utf8), LazyThreadSafetyMode.ExecutionAndPublication);

    // Read-only after construction, so concurrent lookups are safe.
    private readonly Dictionary<string, MessageDescriptor> _messages;
    private readonly Dictionary<string, EnumDescriptor> _enums;

    private XdsSchema(MessageDescriptor[] messages, EnumDescriptor[] enums)
    {
        _messages = new Dictionary<string, MessageDescriptor>(messages.Length, StringComparer.Ordinal);
        foreach (MessageDescriptor m in messages)
        {
            _messages[m.FullName] = m;
        }
        _enums = new Dictionary<string, EnumDescriptor>(enums.Length, StringComparer.Ordinal);
        foreach (EnumDescriptor e in enums)
        {
            _enums[e.FullName] = e;
        }
    }

    /// <summary>The schema generated from Envoy's API (see tests/Core.Tests/Xds/Schema/generate-schema.js).</summary>
    public static XdsSchema Envoy => LazyEnvoy.Value;

    public int MessageCount => _messages.Count;
    public int EnumCount => _enums.Count;

    public IEnumerable<MessageDescriptor> Messages => _messages.Values;

    public MessageDescriptor? FindMessage(string fullName) => _messages.TryGetValue(fullName, out MessageDescriptor? m) ? m : null;

    public EnumDescriptor? FindEnum(string fullName) => _enums.TryGetValue(fullName, out EnumDescriptor? e) ? e : null;

    /// <summary>
    /// The message a type URL names: "type.googleapis.com/envoy.config.listener.v3.Listener" — the part after
    /// the last '/' is the full name (protobuf.dev, Any: "type_url"); a bare full name is accepted too.
    /// </summary>
    public MessageDescriptor? FindByTypeUrl(string typeUrl) => FindMessage(typeUrl[(typeUrl.LastIndexOf('/') + 1)..]);

    /// <summary>Parses the text format written by the generator; malformed text is a build defect, so it throws.</summary>
    internal static XdsSchema Parse(ReadOnlySpan<byte> utf8)
    {
        string text = Encoding.UTF8.GetString(utf8);
        List<EnumDescriptor> enums = [];
        List<(string Name, string[] Oneofs, List<FieldDescriptor> Fields)> messages = [];
        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }
            string[] parts = line.Split(' ');
            switch (parts[0])
            {
                case "E":
                    List<KeyValuePair<string, int>> values = [];
                    for (int i = 2; i < parts.Length; i++)
                    {
                        int eq = parts[i].IndexOf('=', StringComparison.Ordinal);
                        values.Add(new(parts[i][..eq], int.Parse(parts[i].AsSpan(eq + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)));
                    }
                    enums.Add(new EnumDescriptor(parts[1], values));
                    break;
                case "M":
                    messages.Add((parts[1], parts[2..], []));
                    break;
                default:
                    messages[^1].Fields.Add(ParseField(parts));
                    break;
            }
        }
        MessageDescriptor[] built = new MessageDescriptor[messages.Count];
        for (int i = 0; i < built.Length; i++)
        {
            built[i] = new MessageDescriptor(messages[i].Name, messages[i].Oneofs, [.. messages[i].Fields]);
        }
        EnumDescriptor[] enumArray = [.. enums];
        foreach (MessageDescriptor m in built)
        {
            m.Link(built, enumArray);
        }
        return new XdsSchema(built, enumArray);
    }

    private static FieldDescriptor ParseField(string[] parts)
    {
        int number = int.Parse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture);
        string type = parts[2];
        bool isMap = type.StartsWith("map<", StringComparison.Ordinal);
        FieldType keyType = FieldType.String;
        if (isMap)
        {
            int comma = type.IndexOf(',', StringComparison.Ordinal);
            keyType = ParseScalar(type[4..comma]);
            type = type[(comma + 1)..^1];
        }
        (FieldType fieldType, int typeIndex) = type[0] switch
        {
            'm' when char.IsAsciiDigit(type[1]) => (FieldType.Message, int.Parse(type.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture)),
            'e' when char.IsAsciiDigit(type[1]) => (FieldType.Enum, int.Parse(type.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture)),
            _ => (ParseScalar(type), -1),
        };
        bool repeated = false;
        bool optional = false;
        int oneof = -1;
        for (int i = 3; i < parts.Length; i++)
        {
            string flag = parts[i];
            if (flag == "r")
            {
                repeated = true;
            }
            else if (flag == "opt")
            {
                optional = true;
            }
            else if (flag[0] == 'o')
            {
                oneof = int.Parse(flag.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture);
            }
        }
        return new FieldDescriptor(number, parts[1], fieldType, typeIndex, repeated, isMap, keyType, oneof, optional);
    }

    private static FieldType ParseScalar(string name) => name switch
    {
        "double" => FieldType.Double,
        "float" => FieldType.Float,
        "int64" => FieldType.Int64,
        "uint64" => FieldType.UInt64,
        "int32" => FieldType.Int32,
        "fixed64" => FieldType.Fixed64,
        "fixed32" => FieldType.Fixed32,
        "bool" => FieldType.Bool,
        "string" => FieldType.String,
        "bytes" => FieldType.Bytes,
        "uint32" => FieldType.UInt32,
        "sfixed32" => FieldType.SFixed32,
        "sfixed64" => FieldType.SFixed64,
        "sint32" => FieldType.SInt32,
        "sint64" => FieldType.SInt64,
        _ => throw new FormatException("unknown scalar type in the generated schema: " + name),
    };
}
