using System.Buffers;

namespace Sidecar.Core.Hpack;

/// <summary>
/// Encodes header blocks (RFC 7541). One instance per connection direction; not thread-safe. Steady state allocates
/// nothing: lookups hash without copying and the dynamic table is one ring buffer sized at construction.
/// </summary>
public sealed class HpackEncoder
{
    /// <summary>RFC 9113 §6.5.2: the peer's SETTINGS_HEADER_TABLE_SIZE is 4096 until its SETTINGS say otherwise.</summary>
    private const int ProtocolDefaultTableSize = 4096;

    /// <summary>Static names (1..61) and prepared names (<see cref="HpackFieldName.EntrySlot"/>) that have a slot in <see cref="_lastEntryByName"/>.</summary>
    internal const int EntrySlotCount = HpackStaticTable.Count + 1 + 32;

    private readonly HpackDynamicTable _table;
    private readonly int _ownLimit;

    /// <summary>
    /// Per name slot: the insertion number of the dynamic entry that name last matched in full or was added as. Only a
    /// hint — the entry is compared in full before use, so a stale number (evicted, renumbered by a resize) just misses.
    /// Entries never repeat a (name, value) pair (a full match is indexed, never added again), so a hit is the entry
    /// the hash index would find.
    /// </summary>
    private readonly uint[] _lastEntryByName = new uint[EntrySlotCount];
    private int _peerKnownSize = ProtocolDefaultTableSize;  // the size the peer's decoder is at, as far as it has been told
    private int _smallestSinceLastBlock = int.MaxValue;
    private bool _sizeUpdatePending;

    /// <param name="maxDynamicTableSize">The most memory we spend on the table, whatever the peer allows.</param>
    public HpackEncoder(int maxDynamicTableSize = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDynamicTableSize);
        _ownLimit = maxDynamicTableSize;
        int initial = Math.Min(ProtocolDefaultTableSize, maxDynamicTableSize);
        _table = new HpackDynamicTable(maxDynamicTableSize, initial, hashed: true);
        if (initial != ProtocolDefaultTableSize) SetPeerMaxTableSize(ProtocolDefaultTableSize);
    }

    /// <summary>Entries in our dynamic table (diagnostics and tests).</summary>
    public int DynamicTableCount => _table.Count;

    /// <summary>The table size we use now: min(peer's SETTINGS_HEADER_TABLE_SIZE, our own limit).</summary>
    public int DynamicTableMaxSize => _table.MaxSize;

    /// <summary>
    /// The peer's SETTINGS_HEADER_TABLE_SIZE changed; the encoder shrinks/grows (never above it or our own limit) and
    /// emits a Dynamic Table Size Update (§6.3) at the start of the next block: the smallest size it passed through, then
    /// the final one, if it went down and up again (§4.2).
    /// </summary>
    public void SetPeerMaxTableSize(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        int effective = Math.Min(size, _ownLimit);
        _table.SetMaxSize(effective);
        _smallestSinceLastBlock = Math.Min(_smallestSinceLastBlock, effective);
        _sizeUpdatePending = _smallestSinceLastBlock < _peerKnownSize || effective != _peerKnownSize;
    }

    /// <summary>Starts a header block: writes any pending table size update.</summary>
    public void BeginBlock(IBufferWriter<byte> output)
    {
        if (!_sizeUpdatePending) return;
        Span<byte> span = output.GetSpan(2 * HpackInteger.MaxEncodedLength);
        if (!TryBeginBlock(span, out int written)) throw new InvalidOperationException("buffer writer returned a short span");
        output.Advance(written);
    }

    /// <summary>Span form of <see cref="BeginBlock"/>; false (nothing pending is lost) when the destination is too small.</summary>
    public bool TryBeginBlock(Span<byte> destination, out int written)
    {
        written = 0;
        if (!_sizeUpdatePending) return true;
        int final = _table.MaxSize;
        int decoderSize = _peerKnownSize;
        int pos = 0;
        if (_smallestSinceLastBlock < decoderSize && _smallestSinceLastBlock < final)
        {
            // The table went below where it ends up: the decoder must evict down to that minimum too (§4.2).
            if (!HpackInteger.TryEncode(_smallestSinceLastBlock, 5, 0x20, destination, out int n)) return false;
            pos = n;
            decoderSize = _smallestSinceLastBlock;
        }
        if (final != decoderSize)
        {
            if (!HpackInteger.TryEncode(final, 5, 0x20, destination[pos..], out int n)) return false;
            pos += n;
        }
        _peerKnownSize = final;
        _smallestSinceLastBlock = int.MaxValue;
        _sizeUpdatePending = false;
        written = pos;
        return true;
    }

    /// <summary>
    /// Encodes one field. The name is lower-cased while written (RFC 9113 §8.2.1) and matched case-insensitively.
    /// <paramref name="neverIndex"/> =&gt; §6.2.3. Otherwise a full match in either table is indexed (§6.1); else a
    /// literal, indexed or not per <see cref="HpackIndexingPolicy"/>. Strings are Huffman-coded when that is shorter.
    /// </summary>
    public void Encode(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndex, IBufferWriter<byte> output)
    {
        // Raw strings bound the output: Huffman is only used when shorter.
        int bound = 3 * HpackInteger.MaxEncodedLength + name.Length + value.Length;
        Span<byte> span = output.GetSpan(bound);
        if (!TryEncode(name, value, neverIndex, span, out int written)) throw new InvalidOperationException("buffer writer returned a short span");
        output.Advance(written);
    }

    /// <summary><see cref="Encode(ReadOnlySpan{byte}, ReadOnlySpan{byte}, bool, IBufferWriter{byte})"/> for a name prepared once (no hashing or static probe per field).</summary>
    public void Encode(HpackFieldName name, ReadOnlySpan<byte> value, bool neverIndex, IBufferWriter<byte> output)
    {
        int bound = 3 * HpackInteger.MaxEncodedLength + name.Bytes.Length + value.Length;
        Span<byte> span = output.GetSpan(bound);
        if (!TryEncode(name.Bytes, name.Hash, name.StaticIndex, name.EntrySlot, value, neverIndex, span, out int written))
            throw new InvalidOperationException("buffer writer returned a short span");
        output.Advance(written);
    }

    /// <summary>
    /// <see cref="Encode(ReadOnlySpan{byte}, ReadOnlySpan{byte}, bool, IBufferWriter{byte})"/> for a field forwarded
    /// from a decoded block whose name the decoder knew as a static-table name (<paramref name="staticNameIndex"/>, the
    /// first index with it, e.g. from <see cref="Http2.Http2Head.GetStaticNameIndex"/>): that name's hash and index are
    /// known, so neither is computed again. 0 means unknown: the name is hashed and looked up as usual.
    /// </summary>
    public void Encode(ReadOnlySpan<byte> name, int staticNameIndex, ReadOnlySpan<byte> value, bool neverIndex, IBufferWriter<byte> output)
    {
        if (staticNameIndex == 0)
        {
            Encode(name, value, neverIndex, output);
            return;
        }
        System.Diagnostics.Debug.Assert(HpackStaticTable.FirstIndexOfName(staticNameIndex) == staticNameIndex && name.SequenceEqual(HpackStaticTable.GetName(staticNameIndex)));
        int bound = 3 * HpackInteger.MaxEncodedLength + name.Length + value.Length;
        Span<byte> span = output.GetSpan(bound);
        if (!TryEncode(name, HpackStaticTable.NameHash(staticNameIndex), staticNameIndex, staticNameIndex, value, neverIndex, span, out int written))
            throw new InvalidOperationException("buffer writer returned a short span");
        output.Advance(written);
    }

    /// <summary>
    /// <c>:status</c> (RFC 9113 §8.3.2). The seven codes of the static table (RFC 7541 Appendix A, indices 8–14) are one
    /// indexed byte written without formatting or lookup; other codes go through the general path.
    /// </summary>
    public void EncodeStatus(int status, IBufferWriter<byte> output)
    {
        int index = status switch
        {
            200 => 8,
            204 => 9,
            206 => 10,
            304 => 11,
            400 => 12,
            404 => 13,
            500 => 14,
            _ => 0,
        };
        if (index != 0)
        {
            // §6.1 indexed field: 1 bit pattern, 7-bit index; every static index fits the prefix.
            output.GetSpan(1)[0] = (byte)(0x80 | index);
            output.Advance(1);
            return;
        }
        Span<byte> digits = stackalloc byte[11];
        System.Buffers.Text.Utf8Formatter.TryFormat(status, digits, out int n);
        Encode(HpackFieldName.Status, digits[..n], false, output);
    }

    /// <summary>Span form for callers with a fixed buffer; false (and the table unchanged) when the destination is too small.</summary>
    public bool TryEncode(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndex, Span<byte> destination, out int written)
    {
        uint nameHash = HpackHash.OfLowerCase(name);
        int staticName = HpackStaticTable.FindName(name, nameHash);
        return TryEncode(name, nameHash, staticName, staticName, value, neverIndex, destination, out written);
    }

    /// <param name="entrySlot">The name's slot in <see cref="_lastEntryByName"/> (its static index, or a prepared name's
    /// <see cref="HpackFieldName.EntrySlot"/>), or 0 for none.</param>
    private bool TryEncode(ReadOnlySpan<byte> name, uint nameHash, int staticName, int entrySlot, ReadOnlySpan<byte> value, bool neverIndex, Span<byte> destination, out int written)
    {
        written = 0;
        if (!neverIndex && staticName != 0)
        {
            int full = HpackStaticTable.FindValue(staticName, value);
            if (full != 0) return TryWriteIndexed(full, destination, out written);
        }
        // A static name is preferred as the name reference, so the dynamic table matters for it only through a full
        // match — impossible when the field is sent never-indexed or its name is one the table never receives.
        bool fullMatchWanted = !neverIndex && !(staticName != 0 && HpackIndexingPolicy.IsNeverIndexedName(staticName));
        int dynamicName = 0;
        uint valueHash = 0;
        bool valueHashed = false;
        if (_table.Count != 0)
        {
            // The full match first: a field the proxy sends on every message is usually found there at once, and its
            // name then needs no lookup of its own.
            if (fullMatchWanted)
            {
                // The entry this name matched last time, if it is still there and still this field (the whole name and
                // value compared): the usual case for a field repeated on every message, with no hash or bucket walk.
                if (entrySlot != 0)
                {
                    int remembered = _table.IndexOfNumber(_lastEntryByName[entrySlot]);
                    if (remembered != 0 && _table.Holds(remembered, name, nameHash, value))
                        return TryWriteIndexed(HpackStaticTable.Count + remembered, destination, out written);
                }
                valueHash = HpackHash.Of(value);
                valueHashed = true;
                int dynamicFull = _table.FindField(name, nameHash, value, valueHash);
                if (dynamicFull != 0)
                {
                    if (entrySlot != 0) _lastEntryByName[entrySlot] = _table.NumberOf(dynamicFull);
                    return TryWriteIndexed(HpackStaticTable.Count + dynamicFull, destination, out written);
                }
            }
            if (staticName == 0) dynamicName = _table.FindName(name, nameHash);
        }

        HpackLiteralKind kind = neverIndex ? HpackLiteralKind.NeverIndexed : HpackIndexingPolicy.Choose(name, value, staticName, _table.MaxSize);
        // A static name never moves, so it is preferred over a dynamic one.
        int nameIndex = staticName != 0 ? staticName : dynamicName != 0 ? HpackStaticTable.Count + dynamicName : 0;
        (int prefixBits, byte pattern) = kind switch
        {
            HpackLiteralKind.Incremental => (6, (byte)0x40),
            HpackLiteralKind.NeverIndexed => (4, (byte)0x10),
            _ => (4, (byte)0x00),
        };
        if (!HpackInteger.TryEncode(nameIndex, prefixBits, pattern, destination, out int pos)) return false;
        if (nameIndex == 0)
        {
            if (!TryWriteString(name, lowerCase: true, destination[pos..], out int n)) return false;
            pos += n;
        }
        if (!TryWriteString(value, lowerCase: false, destination[pos..], out int v)) return false;
        pos += v;
        if (kind == HpackLiteralKind.Incremental)
        {
            _table.Add(name, value, lowerCaseName: true, nameHash, valueHashed ? valueHash : HpackHash.Of(value));
            // When the entry did not fit (the table emptied instead) the number names nothing live: a later check misses.
            if (entrySlot != 0) _lastEntryByName[entrySlot] = _table.NumberOf(1);
        }
        written = pos;
        return true;
    }

    private static bool TryWriteIndexed(int index, Span<byte> destination, out int written) =>
        HpackInteger.TryEncode(index, 7, 0x80, destination, out written);

    /// <summary>§5.2 string literal, Huffman-coded only when strictly shorter.</summary>
    private static bool TryWriteString(ReadOnlySpan<byte> source, bool lowerCase, Span<byte> destination, out int written)
    {
        written = 0;
        int huffmanLength = Huffman.GetEncodedLength(source, lowerCase);
        bool huffman = huffmanLength < source.Length;
        int length = huffman ? huffmanLength : source.Length;
        if (!HpackInteger.TryEncode(length, 7, huffman ? (byte)0x80 : (byte)0, destination, out int pos)) return false;
        if (destination.Length - pos < length) return false;
        Span<byte> body = destination.Slice(pos, length);
        if (huffman)
        {
            Huffman.Encode(source, body, lowerCase);
        }
        else if (lowerCase)
        {
            // Only A-Z change; other bytes (invalid in HTTP/2 names, the caller validates) are copied as they are.
            for (int i = 0; i < source.Length; i++) body[i] = (uint)(source[i] - 'A') <= 'Z' - 'A' ? (byte)(source[i] | 0x20) : source[i];
        }
        else
        {
            source.CopyTo(body);
        }
        written = pos + length;
        return true;
    }
}

