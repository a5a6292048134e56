namespace Sidecar.Core.Xds.Schema;

/// <summary>A field's declared type: the fifteen protobuf scalars, an enum or a message (protobuf.dev "Scalar Value Types").</summary>
public enum FieldType : byte
{
    Double,
    Float,
    Int64,
    UInt64,
    Int32,
    Fixed64,
    Fixed32,
    Bool,
    String,
    Bytes,
    UInt32,
    SFixed32,
    SFixed64,
    SInt32,
    SInt64,
    Enum,
    Message,
}

/// <summary>Messages whose proto3 JSON form is not "an object of their fields" (protobuf.dev "JSON Mapping").</summary>
public enum WellKnownType : byte
{
    None,
    Any,
    Duration,
    Timestamp,
    Struct,
    Value,
    ListValue,
    /// <summary>DoubleValue, FloatValue, Int64Value, UInt64Value, Int32Value, UInt32Value, BoolValue, StringValue, BytesValue: the bare value.</summary>
    Wrapper,
    FieldMask,
}

/// <summary>A protobuf enum: value names by number, and numbers by name (for the encoder).</summary>
public sealed class EnumDescriptor
{
    // Sorted numbers with their first-declared names (binary search), and names to numbers. Arrays and a
    // string-keyed Dictionary rather than FrozenDictionary<int, …>: each value-type instantiation costs code size in AOT.
    private readonly int[] _sortedNumbers;
    private readonly string[] _namesBySortedNumber;
    private readonly Dictionary<string, int> _numbers;

    internal EnumDescriptor(string fullName, List<KeyValuePair<string, int>> values)
    {
        FullName = fullName;
        List<int> numbers = new(values.Count);
        List<string> names = new(values.Count);
        _numbers = new Dictionary<string, int>(values.Count, StringComparer.Ordinal);
        foreach (KeyValuePair<string, int> v in values)
        {
            // With allow_alias the first name declared for a number is the one JSON prints.
            if (!numbers.Contains(v.Value))
            {
                numbers.Add(v.Value);
                names.Add(v.Key);
            }
            _numbers[v.Key] = v.Value;
        }
        _sortedNumbers = [.. numbers];
        _namesBySortedNumber = [.. names];
        Array.Sort(_sortedNumbers, _namesBySortedNumber);
    }

    public string FullName { get; }

    public string? NameOf(int number) => Array.BinarySearch(_sortedNumbers, number) is int i && i >= 0 ? _namesBySortedNumber[i] : null;

    public bool TryGetNumber(string name, out int number) => _numbers.TryGetValue(name, out number);
}

/// <summary>One field of a message. For a map field, <see cref="Type"/>/<see cref="Message"/>/<see cref="Enum"/> describe the value.</summary>
public sealed class FieldDescriptor
{
    internal FieldDescriptor(int number, string name, FieldType type, int typeIndex, bool repeated, bool isMap, FieldType mapKey, int oneof, bool explicitPresence)
    {
        Number = number;
        Name = name;
        JsonName = ToLowerCamel(name);
        Type = type;
        TypeIndex = typeIndex;
        IsRepeated = repeated;
        IsMap = isMap;
        MapKeyType = mapKey;
        OneofIndex = oneof;
        HasExplicitPresence = explicitPresence || oneof >= 0 || (type == FieldType.Message && !repeated && !isMap);
    }

    public int Number { get; }

    /// <summary>The name as declared in the .proto (snake_case): what Envoy's config dumps and our translators use.</summary>
    public string Name { get; }

    /// <summary>The proto3 JSON name (lowerCamelCase), also accepted by the encoder.</summary>
    public string JsonName { get; }

    public FieldType Type { get; }
    public bool IsRepeated { get; }
    public bool IsMap { get; }
    public FieldType MapKeyType { get; }

    /// <summary>Index into <see cref="MessageDescriptor.Oneofs"/>, or -1.</summary>
    public int OneofIndex { get; }

    /// <summary>Oneof members, proto3 <c>optional</c> and singular messages are printed even at their default value.</summary>
    public bool HasExplicitPresence { get; }

    public MessageDescriptor? Message { get; private set; }
    public EnumDescriptor? Enum { get; private set; }

    internal int TypeIndex { get; }

    /// <summary>Repeated numeric fields (and enums) are packed by default in proto3 (protobuf.dev "Packed Repeated Fields").</summary>
    public bool IsPackable => IsRepeated && !IsMap && Type is not (FieldType.String or FieldType.Bytes or FieldType.Message);

    internal void Link(MessageDescriptor[] messages, EnumDescriptor[] enums)
    {
        Message = Type == FieldType.Message ? messages[TypeIndex] : null;
        Enum = Type == FieldType.Enum ? enums[TypeIndex] : null;
    }

    private static string ToLowerCamel(string name)
    {
        if (!name.Contains('_', StringComparison.Ordinal))
        {
            return name;
        }
        System.Text.StringBuilder sb = new(name.Length);
        bool upper = false;
        foreach (char c in name)
        {
            if (c == '_')
            {
                upper = true;
                continue;
            }
            sb.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        return sb.ToString();
    }
}

/// <summary>A message: its fields in declaration order (the order proto3 JSON printers use) and lookups by number and name.</summary>
public sealed class MessageDescriptor
{
    // Field numbers sorted, with each one's position in Fields (binary search: messages have few fields).
    private int[] _sortedNumbers = [];
    private int[] _indexBySortedNumber = [];
    private Dictionary<string, FieldDescriptor> _byName = new(StringComparer.Ordinal);

    internal MessageDescriptor(string fullName, string[] oneofs, FieldDescriptor[] fields)
    {
        FullName = fullName;
        Oneofs = oneofs;
        Fields = fields;
        WellKnown = ClassifyWellKnown(fullName);
    }

    public string FullName { get; }
    public string[] Oneofs { get; }
    public FieldDescriptor[] Fields { get; }
    public WellKnownType WellKnown { get; }

    /// <summary>Position of field <paramref name="number"/> in <see cref="Fields"/>, or -1 when the schema does not know it.</summary>
    public int IndexOf(int number) => Array.BinarySearch(_sortedNumbers, number) is int i && i >= 0 ? _indexBySortedNumber[i] : -1;

    /// <summary>A field by its declared name or its lowerCamelCase JSON name.</summary>
    public FieldDescriptor? FindByName(string name) => _byName.TryGetValue(name, out FieldDescriptor? f) ? f : null;

    internal void Link(MessageDescriptor[] messages, EnumDescriptor[] enums)
    {
        _sortedNumbers = new int[Fields.Length];
        _indexBySortedNumber = new int[Fields.Length];
        for (int i = 0; i < Fields.Length; i++)
        {
            FieldDescriptor f = Fields[i];
            f.Link(messages, enums);
            _sortedNumbers[i] = f.Number;
            _indexBySortedNumber[i] = i;
            _byName[f.Name] = f;
            _byName.TryAdd(f.JsonName, f);
        }
        Array.Sort(_sortedNumbers, _indexBySortedNumber);
    }

    private static WellKnownType ClassifyWellKnown(string name) => name switch
    {
        "google.protobuf.Any" => WellKnownType.Any,
        "google.protobuf.Duration" => WellKnownType.Duration,
        "google.protobuf.Timestamp" => WellKnownType.Timestamp,
        "google.protobuf.Struct" => WellKnownType.Struct,
        "google.protobuf.Value" => WellKnownType.Value,
        "google.protobuf.ListValue" => WellKnownType.ListValue,
        "google.protobuf.FieldMask" => WellKnownType.FieldMask,
        "google.protobuf.DoubleValue" or "google.protobuf.FloatValue" or "google.protobuf.Int64Value" or
        "google.protobuf.UInt64Value" or "google.protobuf.Int32Value" or "google.protobuf.UInt32Value" or
        "google.protobuf.BoolValue" or "google.protobuf.StringValue" or "google.protobuf.BytesValue" => WellKnownType.Wrapper,
        _ => WellKnownType.None,
    };
}
