namespace Sidecar.Core.Hpack;

/// <summary>
/// A field name the proxy writes itself (pseudo-headers, server, x-envoy-*), prepared once: its lower-case bytes,
/// their hash and its static-table index (RFC 7541 Appendix A). Encoding with it skips the per-field hash and the
/// static-table probe that a name arriving as bytes needs.
/// </summary>
public sealed class HpackFieldName
{
    private readonly byte[] _bytes;

    /// <param name="lowerCaseName">The name as sent on HTTP/2 (lower case, RFC 9113 §8.2.1).</param>
    public HpackFieldName(string lowerCaseName)
    {
        _bytes = System.Text.Encoding.ASCII.GetBytes(lowerCaseName);
        for (int i = 0; i < _bytes.Length; i++)
        {
            if ((uint)(_bytes[i] - 'A') <= 'Z' - 'A') throw new ArgumentException("field names are sent in lower case", nameof(lowerCaseName));
        }
        Hash = HpackHash.OfLowerCase(_bytes);
        StaticIndex = HpackStaticTable.FindName(_bytes, Hash);
        if (StaticIndex != 0)
        {
            EntrySlot = StaticIndex;
        }
        else
        {
            // The proxy prepares a handful of names once; past the slots an encoder keeps, a name just has none.
            int slot = Interlocked.Increment(ref s_lastEntrySlot);
            EntrySlot = slot < HpackEncoder.EntrySlotCount ? slot : 0;
        }
    }

    // Declared before the prepared names below: static initialisers run in text order, and they take slots.
    private static int s_lastEntrySlot = HpackStaticTable.Count;

    public ReadOnlySpan<byte> Bytes => _bytes;
    internal uint Hash { get; }
    /// <summary>First static-table entry with this name, or 0.</summary>
    internal int StaticIndex { get; }
    /// <summary>The name's slot in an encoder's memory of the entry it last matched: its static index, or one of the slots after them, or 0 (none).</summary>
    internal int EntrySlot { get; }

    public static readonly HpackFieldName Method = new(":method");
    public static readonly HpackFieldName Scheme = new(":scheme");
    public static readonly HpackFieldName Path = new(":path");
    public static readonly HpackFieldName Authority = new(":authority");
    public static readonly HpackFieldName Protocol = new(":protocol");
    public static readonly HpackFieldName Status = new(":status");
    public static readonly HpackFieldName Server = new("server");
    public static readonly HpackFieldName ContentLength = new("content-length");
    public static readonly HpackFieldName ContentType = new("content-type");
}
