namespace Sidecar.Core.Hpack;

/// <summary>
/// The dynamic table (RFC 7541 §2.3.2, §4): entry bytes live in one ring buffer and entry descriptors in a second
/// ring, both sized once for the largest allowed table, so adding and evicting never allocates. An entry's bytes may
/// wrap around the end of the ring; readers that need a contiguous span copy those rare ones into their scratch.
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
    }

    private byte[] _data;
    private Entry[] _entries;
    private int _newest = -1;    // slot of the newest entry in _entries
    private int _dataStart;      // ring offset of the oldest entry's bytes
    private int _dataLength;     // bytes in use, from _dataStart
    private readonly bool _hashed;

    /// <param name="hashed">Keep name and value hashes per entry: only an encoder searches the table by content; a
    /// decoder addresses it by index, and hashing every field a peer indexes would be wasted work on its read loop.</param>
    public HpackDynamicTable(int capacity, int maxSize, bool hashed)
    {
        _data = new byte[Math.Max(capacity, 1)];
        _entries = new Entry[capacity / EntryOverhead + 1];
        MaxSize = maxSize;
        _hashed = hashed;
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
        Add(name, value, lowerCaseName, _hashed ? HpackHash.OfLowerCase(name) : 0);

    /// <summary><see cref="Add(ReadOnlySpan{byte}, ReadOnlySpan{byte}, bool)"/> with the name's lower-case hash already known.</summary>
    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool lowerCaseName, uint nameHash)
    {
        long size = (long)name.Length + value.Length + EntryOverhead;
        if (size > MaxSize)
        {
            Clear();
            return;
        }
        while (Size + size > MaxSize) EvictOldest();
        int offset = (_dataStart + _dataLength) % _data.Length;
        if (lowerCaseName)
        {
            for (int i = 0; i < name.Length; i++) _data[(offset + i) % _data.Length] = AsciiLower(name[i]);
        }
        else
        {
            CopyIn(name, offset);
        }
        CopyIn(value, (offset + name.Length) % _data.Length);
        _dataLength += name.Length + value.Length;
        _newest = (_newest + 1) % _entries.Length;
        _entries[_newest] = new Entry
        {
            Offset = offset,
            NameLength = name.Length,
            ValueLength = value.Length,
            NameHash = nameHash,
            ValueHash = _hashed ? HpackHash.Of(value) : 0,
        };
        Count++;
        Size += (int)size;
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

    public int ValueOffset(in Entry entry) => (entry.Offset + entry.NameLength) % _data.Length;

    private static bool Equal(ReadOnlySpan<byte> stored, ReadOnlySpan<byte> other, bool ignoreCase) =>
        ignoreCase ? System.Text.Ascii.EqualsIgnoreCase(stored, other) : stored.SequenceEqual(other);

    private static byte AsciiLower(byte b) => (uint)(b - 'A') <= 'Z' - 'A' ? (byte)(b | 0x20) : b;

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
        _dataStart = (_dataStart + bytes) % _data.Length;
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
    }
}
