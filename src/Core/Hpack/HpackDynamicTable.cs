namespace Sidecar.Core.Hpack;

/// <summary>
/// The dynamic table (RFC 7541 §2.3.2, §4): entry bytes live in one ring buffer and entry descriptors in a second
/// ring, both sized once for the largest allowed table, so adding and evicting never allocates. An entry's bytes may
/// wrap around the end of the ring; readers that need a contiguous span copy those rare ones into their scratch.
/// A hashed table (the encoder's) also keeps a hash index for lookups by content in O(1): see <see cref="FindName"/>.
/// </summary>
internal sealed class HpackDynamicTable
{
    /// <summary>RFC 7541 §4.1: every entry costs its name and value lengths plus 32.</summary>
    public const int EntryOverhead = 32;

    public struct Entry
    {
        public int Offset;
        public int NameLength;
        public int ValueLength;
        public uint NameHash;
        public uint ValueHash;
        /// <summary>Insertion number of the next older entry in this entry's name bucket (hashed tables).</summary>
        public uint OlderSameName;
        /// <summary>Insertion number of the next older entry in this entry's (name, value) bucket (hashed tables).</summary>
        public uint OlderSameField;
        /// <summary>The first static-table index with this entry's name, when it was added by a static name reference (decoders), else 0.</summary>
        public byte StaticName;
    }

    private byte[] _data;
    private Entry[] _entries;
    private int _newest = -1;    // slot of the newest entry in _entries
    private int _dataStart;      // ring offset of the oldest entry's bytes
    private int _dataLength;     // bytes in use, from _dataStart
    private readonly bool _hashed;

    // The hash index (hashed tables only). Every entry gets an insertion number (1, 2, ... wrapping); a bucket holds
    // the number of its newest entry and each entry the number of the next older one in the same bucket. Eviction
    // (always of the oldest) needs no bookkeeping: an insertion number is live while it is among the last Count, and
    // a chain walked from the newest end can stop at the first dead link, since all after it are older still.
    private uint _inserted;
    private uint[] _nameBuckets = [];
    private uint[] _fieldBuckets = [];
    private int _bucketShift;

    /// <param name="hashed">Keep name and value hashes per entry: only an encoder searches the table by content; a
    /// decoder addresses it by index, and hashing every field a peer indexes would be wasted work on its read loop.</param>
    public HpackDynamicTable(int capacity, int maxSize, bool hashed)
    {
        _data = new byte[Math.Max(capacity, 1)];
        _entries = new Entry[capacity / EntryOverhead + 1];
        MaxSize = maxSize;
        _hashed = hashed;
        if (hashed) AllocateBuckets(_entries.Length);
    }

    /// <summary>Number of entries (index 1 is the newest, RFC 7541 §2.3.3).</summary>
    public int Count { get; private set; }

    /// <summary>Current size per §4.1.</summary>
    public int Size { get; private set; }

    /// <summary>Current maximum size (set by a §6.3 update on the decoder side, by SETTINGS on the encoder side).</summary>
    public int MaxSize { get; private set; }

    /// <summary>The largest MaxSize the buffers were allocated for.</summary>
    public int Capacity => _data.Length;

    public ref readonly Entry Get(int index) => ref _entries[SlotOf(index)];

    /// <summary>Sets the maximum size, evicting oldest entries until the table fits (§4.3).</summary>
    public void SetMaxSize(int maxSize)
    {
        if (maxSize > Capacity) Grow(maxSize);
        MaxSize = maxSize;
        while (Size > MaxSize) EvictOldest();
    }

    /// <summary>
    /// Adds an entry (§4.4): evicts until it fits; an entry larger than the maximum size just empties the table.
    /// <paramref name="name"/> and <paramref name="value"/> must not point into this table (callers copy first).
    /// </summary>
    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool lowerCaseName) =>
        Add(name, value, lowerCaseName, _hashed ? HpackHash.OfLowerCase(name) : 0, _hashed ? HpackHash.Of(value) : 0);

    /// <summary>
    /// A decoder's add: <paramref name="staticName"/> is the first static index with the name (it came as a static
    /// name reference, or from an entry that did), else 0; kept with the entry for <see cref="Entry.StaticName"/>.
    /// </summary>
    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int staticName) =>
        Add(name, value, lowerCaseName: false, 0, 0, staticName);

    /// <summary><see cref="Add(ReadOnlySpan{byte}, ReadOnlySpan{byte}, bool)"/> with the name's lower-case hash and the value's hash already known.</summary>
    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool lowerCaseName, uint nameHash, uint valueHash, int staticName = 0)
    {
        long size = (long)name.Length + value.Length + EntryOverhead;
        if (size > MaxSize)
        {
            Clear();
            return;
        }
        while (Size + size > MaxSize) EvictOldest();
        int offset = Wrap(_dataStart + _dataLength);
        CopyIn(name, offset);
        if (lowerCaseName)
        {
            // In the ring's one or two segments, rather than a modulo per byte.
            int head = Math.Min(name.Length, _data.Length - offset);
            LowerInPlace(_data.AsSpan(offset, head));
            LowerInPlace(_data.AsSpan(0, name.Length - head));
        }
        CopyIn(value, Wrap(offset + name.Length));
        _dataLength += name.Length + value.Length;
        _newest = _newest + 1 == _entries.Length ? 0 : _newest + 1;
        _entries[_newest] = new Entry
        {
            Offset = offset,
            NameLength = name.Length,
            ValueLength = value.Length,
            NameHash = nameHash,
            ValueHash = valueHash,
            StaticName = (byte)staticName,
        };
        Count++;
        Size += (int)size;
        if (_hashed) Link(ref _entries[_newest]);
    }

    /// <summary>
    /// Index (1 = newest) of the newest entry whose name equals <paramref name="name"/> ignoring ASCII case, or 0.
    /// Hashed tables only; <paramref name="nameHash"/> is <see cref="HpackHash.OfLowerCase"/> of the name.
    /// </summary>
    public int FindName(ReadOnlySpan<byte> name, uint nameHash)
    {
        int previous = 0;
        for (uint number = _nameBuckets[Bucket(nameHash)]; ; )
        {
            int index = LiveIndex(number, previous);
            if (index == 0) return 0;
            ref readonly Entry entry = ref Get(index);
            if (entry.NameHash == nameHash && BytesEqual(entry.Offset, entry.NameLength, name, ignoreCase: true)) return index;
            number = entry.OlderSameName;
            previous = index;
        }
    }

    /// <summary>Index of the newest entry equal to name (ignoring ASCII case) and value (exactly), or 0. Hashed tables only.</summary>
    public int FindField(ReadOnlySpan<byte> name, uint nameHash, ReadOnlySpan<byte> value, uint valueHash)
    {
        int previous = 0;
        for (uint number = _fieldBuckets[Bucket(FieldHash(nameHash, valueHash))]; ; )
        {
            int index = LiveIndex(number, previous);
            if (index == 0) return 0;
            ref readonly Entry entry = ref Get(index);
            if (entry.NameHash == nameHash && entry.ValueHash == valueHash && entry.ValueLength == value.Length
                && BytesEqual(entry.Offset, entry.NameLength, name, ignoreCase: true)
                && BytesEqual(ValueOffset(entry), entry.ValueLength, value, ignoreCase: false))
            {
                return index;
            }
            number = entry.OlderSameField;
            previous = index;
        }
    }

    /// <summary>Insertion number of the entry at <paramref name="index"/> (1 = newest; hashed tables).</summary>
    public uint NumberOf(int index) => _inserted - (uint)(index - 1);

    /// <summary>Index of the live entry with insertion number <paramref name="number"/>, or 0 (hashed tables).</summary>
    public int IndexOfNumber(uint number)
    {
        uint age = _inserted - number;
        return age < (uint)Count ? (int)age + 1 : 0;
    }

    /// <summary>Whether entry <paramref name="index"/> is name (ignoring ASCII case) and value (exactly). Hashed tables only.</summary>
    public bool Holds(int index, ReadOnlySpan<byte> name, uint nameHash, ReadOnlySpan<byte> value)
    {
        ref readonly Entry entry = ref Get(index);
        return entry.NameHash == nameHash && entry.ValueLength == value.Length
            && BytesEqual(entry.Offset, entry.NameLength, name, ignoreCase: true)
            && BytesEqual(ValueOffset(entry), entry.ValueLength, value, ignoreCase: false);
    }

    /// <summary>
    /// The index of the entry with insertion number <paramref name="number"/> if it is still in the table and older
    /// than the one at <paramref name="previous"/>, else 0. The second condition ends every walk: after 2^32
    /// insertions a stale link could name a live slot again, and content is compared anyway, but a walk must not cycle.
    /// </summary>
    private int LiveIndex(uint number, int previous)
    {
        uint age = _inserted - number; // 0 for the newest entry
        if (age >= (uint)Count) return 0;
        int index = (int)age + 1;
        return index > previous ? index : 0;
    }

    private void Link(ref Entry entry)
    {
        _inserted++;
        ref uint nameHead = ref _nameBuckets[Bucket(entry.NameHash)];
        entry.OlderSameName = nameHead;
        nameHead = _inserted;
        ref uint fieldHead = ref _fieldBuckets[Bucket(FieldHash(entry.NameHash, entry.ValueHash))];
        entry.OlderSameField = fieldHead;
        fieldHead = _inserted;
    }

    private static uint FieldHash(uint nameHash, uint valueHash) => (nameHash * 0x9E3779B1u) ^ valueHash;

    /// <summary>Fibonacci hashing: the top bits of hash × 2^32/φ, so a bucket depends on all bits of the hash.</summary>
    private int Bucket(uint hash) => (int)((hash * 0x9E3779B1u) >> _bucketShift);

    /// <summary>
    /// At least one bucket per entry the table can hold (a power of two, at least 16): real entries are larger than
    /// the 32-byte minimum, so chains stay short. 2 KiB for the default 4096-byte table.
    /// </summary>
    private void AllocateBuckets(int entryCapacity)
    {
        int bits = Math.Max(4, 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)entryCapacity - 1));
        _nameBuckets = new uint[1 << bits];
        _fieldBuckets = new uint[1 << bits];
        _bucketShift = 32 - bits;
    }

    /// <summary>Re-links the live entries oldest first into fresh buckets (after Grow, or when numbers could be stale).</summary>
    private void Relink()
    {
        AllocateBuckets(_entries.Length);
        _inserted = 0;
        int count = Count;
        for (int index = count; index >= 1; index--)
        {
            // Link numbers entries 1..count in insertion order; LiveIndex then maps number n to index count - n + 1.
            Link(ref _entries[SlotOf(index)]);
        }
    }

    /// <summary>Contiguous view of [offset, offset+length) when it does not wrap; otherwise a copy in <paramref name="scratch"/>.</summary>
    public ReadOnlySpan<byte> Read(int offset, int length, Span<byte> scratch)
    {
        if (offset + length <= _data.Length) return _data.AsSpan(offset, length);
        int head = _data.Length - offset;
        _data.AsSpan(offset, head).CopyTo(scratch);
        _data.AsSpan(0, length - head).CopyTo(scratch[head..]);
        return scratch[..length];
    }

    /// <summary>True when the bytes at [offset, offset+other.Length) equal <paramref name="other"/> (optionally ignoring ASCII case).</summary>
    public bool BytesEqual(int offset, int length, ReadOnlySpan<byte> other, bool ignoreCase)
    {
        if (length != other.Length) return false;
        int head = Math.Min(length, _data.Length - offset);
        return Equal(_data.AsSpan(offset, head), other[..head], ignoreCase)
            && Equal(_data.AsSpan(0, length - head), other[head..], ignoreCase);
    }

    public int ValueOffset(in Entry entry) => Wrap(entry.Offset + entry.NameLength);

    /// <summary>
    /// A position past the ring's end back into it. Every caller adds to an offset inside the ring a length that is
    /// at most the ring's (nothing stored is longer than the table), so one subtraction does what a modulo would —
    /// without a division on every read of a value and every add.
    /// </summary>
    private int Wrap(int position) => position >= _data.Length ? position - _data.Length : position;

    /// <summary>
    /// Exact bytes first: stored names are lower case (the encoder lowers them on the way in), and so are the names
    /// it is asked about nearly always (HTTP/2 names are lower case, RFC 9113 §8.2.1; ours are prepared so), so the
    /// case-folding compare is only the fallback for a name that arrived with capitals.
    /// </summary>
    private static bool Equal(ReadOnlySpan<byte> stored, ReadOnlySpan<byte> other, bool ignoreCase) =>
        stored.SequenceEqual(other) || (ignoreCase && System.Text.Ascii.EqualsIgnoreCase(stored, other));

    /// <summary>ASCII letters to lower case; other bytes (invalid in names, the caller validates) stay as they are.</summary>
    private static void LowerInPlace(Span<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            if ((uint)(bytes[i] - 'A') <= 'Z' - 'A') bytes[i] |= 0x20;
        }
    }

    private int SlotOf(int index)
    {
        int slot = _newest - (index - 1);
        return slot < 0 ? slot + _entries.Length : slot;
    }

    private void CopyIn(ReadOnlySpan<byte> source, int offset)
    {
        int head = Math.Min(source.Length, _data.Length - offset);
        source[..head].CopyTo(_data.AsSpan(offset));
        source[head..].CopyTo(_data);
    }

    private void EvictOldest()
    {
        ref readonly Entry oldest = ref _entries[SlotOf(Count)];
        int bytes = oldest.NameLength + oldest.ValueLength;
        _dataStart = Wrap(_dataStart + bytes);
        _dataLength -= bytes;
        Size -= bytes + EntryOverhead;
        Count--;
    }

    private void Clear()
    {
        Count = 0;
        Size = 0;
        _dataStart = 0;
        _dataLength = 0;
        _newest = -1;
    }

    /// <summary>Reallocates for a larger maximum (a SETTINGS change, not the steady state), keeping entries in order.</summary>
    private void Grow(int capacity)
    {
        var data = new byte[capacity];
        var entries = new Entry[capacity / EntryOverhead + 1];
        int written = 0;
        for (int index = Count; index >= 1; index--)
        {
            Entry entry = Get(index);
            int length = entry.NameLength + entry.ValueLength;
            Read(entry.Offset, length, data.AsSpan(written, length)).CopyTo(data.AsSpan(written));
            entry.Offset = written;
            written += length;
            entries[Count - index] = entry;
        }
        _data = data;
        _entries = entries;
        _newest = Count - 1;
        _dataStart = 0;
        _dataLength = written;
        if (_hashed) Relink();
    }
}
