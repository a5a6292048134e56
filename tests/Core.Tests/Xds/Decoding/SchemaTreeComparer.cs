using System.Globalization;
using System.Numerics;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Xds.Decoding;
using Sidecar.Core.Xds.Schema;

namespace Sidecar.Core.Tests.Xds.Decoding;

/// <summary>
/// Compares an expected proto3 JSON tree (from a real dump) with a decoded one, field by field with the
/// schema, so that only documented normalisations are tolerated and counted:
/// "default omitted" (a scalar without presence, an empty list or map written out in the JSON),
/// "number spelling" (1.0 vs 1, an int64 written as a number vs as a string, an enum by number vs by name),
/// "duration/timestamp spelling" ("1.5s" vs "1.500s"). Everything else is a difference.
/// </summary>
internal sealed class SchemaTreeComparer(XdsSchema schema)
{
    public List<string> Differences { get; } = [];

    public SortedDictionary<string, int> Normalisations { get; } = new(StringComparer.Ordinal);

    public void CompareMessage(MessageDescriptor md, ConfigNode expected, ConfigNode actual, string path)
    {
        switch (md.WellKnown)
        {
            case WellKnownType.None:
                ComparePlain(md, expected, actual, path, skipType: false);
                return;
            case WellKnownType.Any:
                CompareAny(expected, actual, path);
                return;
            case WellKnownType.Duration or WellKnownType.Timestamp:
                CompareTime(md.WellKnown == WellKnownType.Duration, expected, actual, path);
                return;
            case WellKnownType.Wrapper:
                CompareScalar(md.Fields[0].Type, null, expected, actual, path);
                return;
            case WellKnownType.FieldMask:
                if (expected is not ConfigScalar e || actual is not ConfigScalar a || e.Text != a.Text)
                {
                    Diff(path, "field mask differs");
                }
                return;
            default:
                CompareJson(expected, actual, path);
                return;
        }
    }

    private void ComparePlain(MessageDescriptor md, ConfigNode expected, ConfigNode actual, string path, bool skipType)
    {
        if (expected is not ConfigMap e || actual is not ConfigMap a)
        {
            Diff(path, $"expected objects for {md.FullName}");
            return;
        }
        HashSet<string> seen = new(StringComparer.Ordinal);
        foreach (KeyValuePair<string, ConfigNode> entry in e.Entries)
        {
            if (skipType && entry.Key == "@type")
            {
                continue;
            }
            string p = path + "." + entry.Key;
            if (md.FindByName(entry.Key) is not FieldDescriptor f)
            {
                Diff(p, $"{md.FullName} has no such field");
                continue;
            }
            seen.Add(f.Name);
            ConfigNode? other = a.Get(f.Name);
            bool expectedNull = entry.Value is ConfigScalar { Kind: ScalarKind.Null } && f.Message?.WellKnown != WellKnownType.Value;
            if (other is null)
            {
                if (expectedNull || IsDefault(f, entry.Value))
                {
                    Count("default omitted");
                }
                else
                {
                    Diff(p, "missing after decoding");
                }
                continue;
            }
            CompareField(f, entry.Value, other, p);
        }
        foreach (KeyValuePair<string, ConfigNode> entry in a.Entries)
        {
            if (!(skipType && entry.Key == "@type") && !seen.Contains(entry.Key))
            {
                Diff(path + "." + entry.Key, "present only after decoding");
            }
        }
    }

    private void CompareField(FieldDescriptor f, ConfigNode expected, ConfigNode actual, string path)
    {
        if (f.IsMap)
        {
            if (expected is not ConfigMap e || actual is not ConfigMap a || e.Entries.Length != a.Entries.Length)
            {
                Diff(path, "map differs in shape or size");
                return;
            }
            foreach (KeyValuePair<string, ConfigNode> entry in e.Entries)
            {
                if (a.Get(entry.Key) is not ConfigNode other)
                {
                    Diff(path + "." + entry.Key, "map key missing");
                    continue;
                }
                CompareSingle(f, entry.Value, other, path + "[" + entry.Key + "]");
            }
            return;
        }
        if (f.IsRepeated)
        {
            if (expected is not ConfigList e || actual is not ConfigList a || e.Items.Length != a.Items.Length)
            {
                Diff(path, "list differs in shape or length");
                return;
            }
            for (int i = 0; i < e.Items.Length; i++)
            {
                CompareSingle(f, e.Items[i], a.Items[i], path + "[" + i + "]");
            }
            return;
        }
        CompareSingle(f, expected, actual, path);
    }

    private void CompareSingle(FieldDescriptor f, ConfigNode expected, ConfigNode actual, string path)
    {
        if (f.Type == FieldType.Message)
        {
            CompareMessage(f.Message!, expected, actual, path);
        }
        else
        {
            CompareScalar(f.Type, f.Enum, expected, actual, path);
        }
    }

    private void CompareAny(ConfigNode expected, ConfigNode actual, string path)
    {
        if (expected is ConfigMap { Entries.IsEmpty: true } && actual is ConfigMap { Entries.IsEmpty: true })
        {
            return;
        }
        if (expected is not ConfigMap e || actual is not ConfigMap a ||
            e.Get("@type") is not ConfigScalar et || a.Get("@type") is not ConfigScalar at || et.Text != at.Text)
        {
            Diff(path, "Any differs in \"@type\"");
            return;
        }
        if (schema.FindByTypeUrl(et.Text) is not MessageDescriptor inner)
        {
            Diff(path, "unknown Any type " + et.Text);
            return;
        }
        if (inner.WellKnown == WellKnownType.None)
        {
            ComparePlain(inner, e, a, path, skipType: true);
        }
        else if (e.Get("value") is ConfigNode ev && a.Get("value") is ConfigNode av)
        {
            CompareMessage(inner, ev, av, path + ".value");
        }
        else
        {
            Diff(path, "well-known Any without \"value\"");
        }
    }

    private void CompareTime(bool duration, ConfigNode expected, ConfigNode actual, string path)
    {
        if (expected is not ConfigScalar e || actual is not ConfigScalar a)
        {
            Diff(path, "expected strings");
            return;
        }
        long es, @as;
        int en, an;
        bool ok = duration
            ? WellKnownJson.TryParseDuration(e.Text, out es, out en) & WellKnownJson.TryParseDuration(a.Text, out @as, out an)
            : WellKnownJson.TryParseTimestamp(e.Text, out es, out en) & WellKnownJson.TryParseTimestamp(a.Text, out @as, out an);
        if (!ok || es != @as || en != an)
        {
            Diff(path, $"{e.Text} vs {a.Text}");
        }
        else if (e.Text != a.Text)
        {
            Count(duration ? "duration spelling" : "timestamp spelling");
        }
    }

    private void CompareScalar(FieldType type, EnumDescriptor? enumType, ConfigNode expected, ConfigNode actual, string path)
    {
        if (expected is not ConfigScalar e || actual is not ConfigScalar a)
        {
            Diff(path, "expected scalars");
            return;
        }
        bool equal;
        switch (type)
        {
            case FieldType.String:
                equal = e.Kind == ScalarKind.String && a.Kind == ScalarKind.String && e.Text == a.Text;
                break;
            case FieldType.Bytes:
                equal = e.Text.TrimEnd('=').Replace('-', '+').Replace('_', '/') == a.Text.TrimEnd('=');
                break;
            case FieldType.Bool:
                equal = e.Kind == ScalarKind.Bool && a.Kind == ScalarKind.Bool && e.Text == a.Text;
                break;
            case FieldType.Enum:
                equal = EnumNumber(enumType, e) is int en && EnumNumber(enumType, a) is int an && en == an;
                if (equal && e.Text != a.Text)
                {
                    Count("number spelling");
                }
                break;
            case FieldType.Double or FieldType.Float:
                equal = WellKnownJson.TryParseDouble(e.Text, out double ed) && WellKnownJson.TryParseDouble(a.Text, out double ad) &&
                    (type == FieldType.Double ? ed.Equals(ad) : ((float)ed).Equals((float)ad));
                if (equal && (e.Text != a.Text || e.Kind != a.Kind))
                {
                    Count("number spelling");
                }
                break;
            default:
                equal = Integer(e) is BigInteger ei && Integer(a) is BigInteger ai && ei == ai;
                if (equal && (e.Text != a.Text || e.Kind != a.Kind))
                {
                    Count("number spelling");
                }
                break;
        }
        if (!equal)
        {
            Diff(path, $"{e.Kind} {e.Text} vs {a.Kind} {a.Text}");
        }
    }

    /// <summary>Struct/Value/ListValue content: plain JSON, numbers compared as doubles (they are doubles on the wire).</summary>
    private void CompareJson(ConfigNode expected, ConfigNode actual, string path)
    {
        switch (expected)
        {
            case ConfigMap e when actual is ConfigMap a && e.Entries.Length == a.Entries.Length:
                foreach (KeyValuePair<string, ConfigNode> entry in e.Entries)
                {
                    if (a.Get(entry.Key) is ConfigNode other)
                    {
                        CompareJson(entry.Value, other, path + "." + entry.Key);
                    }
                    else
                    {
                        Diff(path + "." + entry.Key, "missing after decoding");
                    }
                }
                return;
            case ConfigList e when actual is ConfigList a && e.Items.Length == a.Items.Length:
                for (int i = 0; i < e.Items.Length; i++)
                {
                    CompareJson(e.Items[i], a.Items[i], path + "[" + i + "]");
                }
                return;
            case ConfigScalar { Kind: ScalarKind.Number } e when actual is ConfigScalar { Kind: ScalarKind.Number } a:
                if (!double.Parse(e.Text, CultureInfo.InvariantCulture).Equals(double.Parse(a.Text, CultureInfo.InvariantCulture)))
                {
                    Diff(path, $"{e.Text} vs {a.Text}");
                }
                else if (e.Text != a.Text)
                {
                    Count("number spelling");
                }
                return;
            case ConfigScalar e when actual is ConfigScalar a && e.Kind == a.Kind && e.Text == a.Text:
                return;
        }
        Diff(path, "JSON value differs");
    }

    private static bool IsDefault(FieldDescriptor f, ConfigNode v)
    {
        if (f.IsMap || f.IsRepeated)
        {
            return v is ConfigList { Items.IsEmpty: true } || v is ConfigMap { Entries.IsEmpty: true };
        }
        if (f.HasExplicitPresence || v is not ConfigScalar s)
        {
            return false;
        }
        return f.Type switch
        {
            FieldType.String or FieldType.Bytes => s.Text.Length == 0,
            FieldType.Bool => s.Text == "false",
            FieldType.Enum => EnumNumber(f.Enum, s) == 0,
            FieldType.Double or FieldType.Float => WellKnownJson.TryParseDouble(s.Text, out double d) && d == 0 && !double.IsNegative(d),
            _ => Integer(s) is BigInteger i && i.IsZero,
        };
    }

    private static int? EnumNumber(EnumDescriptor? e, ConfigScalar s)
    {
        if (s.Kind == ScalarKind.Number && int.TryParse(s.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n))
        {
            return n;
        }
        return e is not null && e.TryGetNumber(s.Text, out int v) ? v : null;
    }

    private static BigInteger? Integer(ConfigScalar s)
    {
        if (BigInteger.TryParse(s.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out BigInteger v))
        {
            return v;
        }
        return double.TryParse(s.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && Math.Floor(d) == d ? new BigInteger(d) : null;
    }

    private void Diff(string path, string what)
    {
        if (Differences.Count < 200)
        {
            Differences.Add(path + ": " + what);
        }
    }

    private void Count(string normalisation) =>
        Normalisations[normalisation] = Normalisations.GetValueOrDefault(normalisation) + 1;
}
