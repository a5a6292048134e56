using System.Text;

namespace Sidecar.Core.Hpack;

/// <summary>
/// The 61-entry static table (RFC 7541 Appendix A), 1-based, with an O(1) case-insensitive name lookup: entries that
/// share a name are consecutive, so the name hash leads to the first of them and values are compared from there.
/// </summary>
public static class HpackStaticTable
{
    /// <summary>Number of entries; dynamic table indices start after it (RFC 7541 §2.3.3).</summary>
    public const int Count = 61;

    private const int BucketMask = 127;

    private static readonly byte[][] Names = new byte[Count + 1][];
    private static readonly byte[][] Values = new byte[Count + 1][];

    /// <summary>Open-addressed: hash of the lower-cased name → first static index with that name (0 = empty).</summary>
    private static readonly byte[] Buckets = new byte[BucketMask + 1];

    /// <summary>For the first index of each name: the last index carrying the same name.</summary>
    private static readonly byte[] LastWithSameName = new byte[Count + 1];

    /// <summary>For every index: the first index carrying the same name (what <see cref="FindName(ReadOnlySpan{byte})"/> gives).</summary>
    private static readonly byte[] FirstWithSameName = new byte[Count + 1];

    /// <summary>For every index: the length of its value (all under 16).</summary>
    private static readonly byte[] ValueLengths = new byte[Count + 1];

    /// <summary>For every index: <see cref="HpackHash.OfLowerCase"/> of its name, so a name known by index is not hashed again.</summary>
    private static readonly uint[] NameHashes = new uint[Count + 1];

#pragma warning disable CA1810 // one ordered initialisation of three dependent tables is clearer than three initialisers
    static HpackStaticTable()
#pragma warning restore CA1810
    {
        string[] entries =
        [
            ":authority", "", ":method", "GET", ":method", "POST", ":path", "/", ":path", "/index.html",
            ":scheme", "http", ":scheme", "https", ":status", "200", ":status", "204", ":status", "206",
            ":status", "304", ":status", "400", ":status", "404", ":status", "500", "accept-charset", "",
            "accept-encoding", "gzip, deflate", "accept-language", "", "accept-ranges", "", "accept", "",
            "access-control-allow-origin", "", "age", "", "allow", "", "authorization", "", "cache-control", "",
            "content-disposition", "", "content-encoding", "", "content-language", "", "content-length", "",
            "content-location", "", "content-range", "", "content-type", "", "cookie", "", "date", "", "etag", "",
            "expect", "", "expires", "", "from", "", "host", "", "if-match", "", "if-modified-since", "",
            "if-none-match", "", "if-range", "", "if-unmodified-since", "", "last-modified", "", "link", "",
            "location", "", "max-forwards", "", "proxy-authenticate", "", "proxy-authorization", "", "range", "",
            "referer", "", "refresh", "", "retry-after", "", "server", "", "set-cookie", "",
            "strict-transport-security", "", "transfer-encoding", "", "user-agent", "", "vary", "", "via", "",
            "www-authenticate", "",
        ];
        Names[0] = [];
        Values[0] = [];
        for (int i = 1; i <= Count; i++)
        {
            Names[i] = Encoding.ASCII.GetBytes(entries[(i - 1) * 2]);
            Values[i] = Encoding.ASCII.GetBytes(entries[(i - 1) * 2 + 1]);
            NameHashes[i] = HpackHash.OfLowerCase(Names[i]);
            ValueLengths[i] = (byte)Values[i].Length;
            if (i > 1 && Names[i].AsSpan().SequenceEqual(Names[i - 1]))
            {
                int first = FirstWithSameName[i - 1];
                FirstWithSameName[i] = (byte)first;
                LastWithSameName[first] = (byte)i;
                continue;
            }
            FirstWithSameName[i] = (byte)i;
            LastWithSameName[i] = (byte)i;
            int bucket = (int)NameHashes[i] & BucketMask;
            while (Buckets[bucket] != 0) bucket = (bucket + 1) & BucketMask;
            Buckets[bucket] = (byte)i;
        }
    }

    /// <summary>Name of entry <paramref name="index"/> (1..61).</summary>
    public static ReadOnlySpan<byte> GetName(int index) => Names[index];

    /// <summary>Value of entry <paramref name="index"/> (1..61); empty for name-only entries.</summary>
    public static ReadOnlySpan<byte> GetValue(int index) => Values[index];

    /// <summary>The first index with the same name as entry <paramref name="index"/> (1..61): :status 404 (13) gives 8.</summary>
    public static int FirstIndexOfName(int index) => FirstWithSameName[index];

    /// <summary><see cref="HpackHash.OfLowerCase"/> of entry <paramref name="index"/>'s name.</summary>
    internal static uint NameHash(int index) => NameHashes[index];

    /// <summary>First index whose name equals <paramref name="name"/> ignoring ASCII case, or 0.</summary>
    public static int FindName(ReadOnlySpan<byte> name) => FindName(name, HpackHash.OfLowerCase(name));

    /// <summary>
    /// Index of the entry equal to name (case-insensitive) and value (exact), or 0; <paramref name="nameIndex"/> gets
    /// the first entry with that name, or 0.
    /// </summary>
    public static int Find(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out int nameIndex)
    {
        nameIndex = FindName(name);
        return nameIndex == 0 ? 0 : FindValue(nameIndex, value);
    }

    /// <summary>Among the entries named like <paramref name="nameIndex"/> (a first index from FindName), the one with this value, or 0.</summary>
    internal static int FindValue(int nameIndex, ReadOnlySpan<byte> value)
    {
        for (int i = nameIndex; i <= LastWithSameName[nameIndex]; i++)
        {
            // Lengths first, from one small array: most names' only value is empty, and most fields have a value.
            if (ValueLengths[i] == value.Length && value.SequenceEqual(Values[i])) return i;
        }
        return 0;
    }

    internal static int FindName(ReadOnlySpan<byte> name, uint lowerCaseHash)
    {
        int bucket = (int)lowerCaseHash & BucketMask;
        while (true)
        {
            int index = Buckets[bucket];
            if (index == 0) return 0;
            // Exact first: the static names are lower case, as HTTP/2 names are (RFC 9113 §8.2.1).
            byte[] candidate = Names[index];
            if (candidate.AsSpan().SequenceEqual(name) || System.Text.Ascii.EqualsIgnoreCase(candidate, name)) return index;
            bucket = (bucket + 1) & BucketMask;
        }
    }
}
