using System.Buffers;

namespace Sidecar.Core.Hpack;

/// <summary>
/// Decodes header blocks (RFC 7541) fragment by fragment. One instance per connection direction; not thread-safe.
/// Steady state allocates nothing: the dynamic table is one ring buffer, and the carry-over and scratch buffers are
/// rented once from the shared pool and kept (returned by <see cref="Dispose"/>).
/// </summary>
public sealed class HpackDecoder : IDisposable
{
    /// <summary>RFC 9113 §6.5.2: SETTINGS_HEADER_TABLE_SIZE starts at 4096 until our SETTINGS are acknowledged.</summary>
    private const int ProtocolDefaultTableSize = 4096;

    /// <summary>Slack over MaxHeaderListSize for a carried-over representation: type byte, integers, Huffman padding.</summary>
    private const int CarryOverSlack = 64;

    private readonly HpackDynamicTable _table;
    private readonly HuffmanMemo _huffman = new();
    private int _maxDynamicTableSize;
    private byte[]? _pending;       // bytes of a representation split across fragments
    private int _pendingLength;
    private byte[]? _scratch;       // Huffman output and copies of entries that wrap in the ring
    private long _listSize;
    private bool _fieldSeen;        // a field representation was decoded in the current block
    private bool _sizeUpdateRequired;
    private bool _failed;

    public HpackDecoder(int maxDynamicTableSize = 4096, int maxHeaderListSize = 16 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDynamicTableSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxHeaderListSize);
        _maxDynamicTableSize = maxDynamicTableSize;
        MaxHeaderListSize = maxHeaderListSize;
        _table = new HpackDynamicTable(maxDynamicTableSize, Math.Min(ProtocolDefaultTableSize, maxDynamicTableSize), hashed: false);
    }

    /// <summary>
    /// Our advertised SETTINGS_HEADER_TABLE_SIZE; size updates above it are CompressionError (RFC 7541 §6.3). Set it when
    /// the peer acknowledges the SETTINGS that carry it. Lowering it below the table's current maximum evicts now and
    /// requires the peer's next block to start with a size update (§4.2), otherwise CompressionError.
    /// </summary>
    public int MaxDynamicTableSize
    {
        get => _maxDynamicTableSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _maxDynamicTableSize = value;
            if (value < _table.MaxSize)
            {
                _table.SetMaxSize(value);
                _sizeUpdateRequired = true;
            }
        }
    }

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE we enforce (RFC 9113 §6.5.2): name + value + 32 per field.</summary>
    public int MaxHeaderListSize { get; set; }

    /// <summary>Number of entries in the dynamic table (diagnostics and tests).</summary>
    public int DynamicTableCount => _table.Count;

    /// <summary>Current dynamic table size per RFC 7541 §4.1 (diagnostics and tests).</summary>
    public int DynamicTableSize => _table.Size;

    /// <summary>
    /// The largest representation that may be split across fragments: it has to be held whole in the carry-over
    /// buffer. A representation that is split and larger than this is a CompressionError: it cannot be decoded in
    /// bounded memory, and skipping it would leave the dynamic table out of sync with the peer's. One that arrives
    /// whole in a fragment has no such bound (it is decoded in place; MaxHeaderListSize still applies).
    /// </summary>
    public int MaxCarryOverLength => MaxHeaderListSize + CarryOverSlack;

    /// <summary>
    /// Decodes one fragment of a header block (HEADERS/PUSH_PROMISE then CONTINUATION frames). A representation split
    /// across fragments is carried over (see <see cref="MaxCarryOverLength"/>). <paramref name="endHeaders"/> on the
    /// last fragment: a block that ends inside a representation is a CompressionError (RFC 9113 §4.3).
    /// </summary>
    public HpackStatus Decode(ReadOnlySpan<byte> fragment, bool endHeaders, IHpackHeaderSink sink)
    {
        if (_failed) return HpackStatus.CompressionError;
        bool ok = DecodeFragment(fragment, sink);
        return Finish(ok, endHeaders);
    }

    /// <inheritdoc cref="Decode(ReadOnlySpan{byte}, bool, IHpackHeaderSink)"/>
    public HpackStatus Decode(in ReadOnlySequence<byte> fragment, bool endHeaders, IHpackHeaderSink sink)
    {
        if (_failed) return HpackStatus.CompressionError;
        if (fragment.IsSingleSegment) return Decode(fragment.FirstSpan, endHeaders, sink);
        bool ok = true;
        foreach (ReadOnlyMemory<byte> segment in fragment)
        {
            if (!DecodeFragment(segment.Span, sink))
            {
                ok = false;
                break;
            }
        }
        return Finish(ok, endHeaders);
    }

    /// <summary>Returns the pooled buffers. The decoder must not be used afterwards.</summary>
    public void Dispose()
    {
        _failed = true;
        if (_pending is not null) ArrayPool<byte>.Shared.Return(_pending);
        if (_scratch is not null) ArrayPool<byte>.Shared.Return(_scratch);
        _pending = null;
        _scratch = null;
    }

    private HpackStatus Finish(bool ok, bool endHeaders)
    {
        // A block that stops inside a representation cannot be decoded: connection error (RFC 9113 §4.3).
        if (ok && endHeaders && _pendingLength > 0) ok = false;
        if (!ok)
        {
            _failed = true;
            return HpackStatus.CompressionError;
        }
        HpackStatus status = _listSize > MaxHeaderListSize ? HpackStatus.HeaderListTooLarge : HpackStatus.Ok;
        if (endHeaders)
        {
            _listSize = 0;
            _fieldSeen = false;
        }
        return status;
    }

    private bool DecodeFragment(ReadOnlySpan<byte> input, IHpackHeaderSink sink)
    {
        if (_pendingLength > 0 && !CompleteCarriedOver(ref input, sink)) return false;
        while (!input.IsEmpty)
        {
            OperationStatus status = HpackRepresentation.TryParse(input, out HpackRepresentation rep, out int needed);
            if (status == OperationStatus.InvalidData) return false;
            if (status == OperationStatus.NeedMoreData)
            {
                if (needed > MaxCarryOverLength) return false;
                EnsureCapacity(ref _pending, needed);
                input.CopyTo(_pending);
                _pendingLength = input.Length;
                return true;
            }
            if (!Apply(input, in rep, sink)) return false;
            input = input[rep.Length..];
        }
        return true;
    }

    /// <summary>
    /// Feeds the carried-over representation just the bytes it still needs (as far as its framing tells so far), so
    /// nothing past it is copied; decodes it once whole. False on a decoding error.
    /// </summary>
    private bool CompleteCarriedOver(ref ReadOnlySpan<byte> input, IHpackHeaderSink sink)
    {
        while (true)
        {
            OperationStatus status = HpackRepresentation.TryParse(_pending.AsSpan(0, _pendingLength), out HpackRepresentation rep, out int needed);
            if (status == OperationStatus.InvalidData) return false;
            if (status == OperationStatus.Done)
            {
                _pendingLength = 0;
                return Apply(_pending.AsSpan(0, rep.Length), in rep, sink);
            }
            if (needed > MaxCarryOverLength) return false;
            if (input.IsEmpty) return true;
            int take = Math.Min(needed - _pendingLength, input.Length);
            EnsureCapacity(ref _pending, needed);
            input[..take].CopyTo(_pending.AsSpan(_pendingLength));
            _pendingLength += take;
            input = input[take..];
        }
    }

    /// <summary>Acts on one complete representation: table updates, then the sink.</summary>
    private bool Apply(ReadOnlySpan<byte> source, in HpackRepresentation rep, IHpackHeaderSink sink)
    {
        if (rep.Kind == HpackRepresentationKind.SizeUpdate) return ApplySizeUpdate(rep.Index);

        // §4.2: after our limit went down, the peer's first block must start with a size update.
        if (_sizeUpdateRequired) return false;
        _fieldSeen = true;

        if (rep.Kind == HpackRepresentationKind.Indexed)
        {
            // §6.1: index 0 is not used; §2.3.3: an index past both tables is a decoding error.
            if (rep.Index == 0 || rep.Index > HpackStaticTable.Count + _table.Count) return false;
            if (rep.Index <= HpackStaticTable.Count)
            {
                Emit(HpackStaticTable.GetName(rep.Index), HpackStaticTable.GetValue(rep.Index), false, HpackStaticTable.FirstIndexOfName(rep.Index), sink);
                return true;
            }
            ref readonly HpackDynamicTable.Entry entry = ref _table.Get(rep.Index - HpackStaticTable.Count);
            Span<byte> scratch = Scratch(entry.NameLength + entry.ValueLength);
            ReadOnlySpan<byte> name = _table.Read(entry.Offset, entry.NameLength, scratch);
            ReadOnlySpan<byte> value = _table.Read(_table.ValueOffset(entry), entry.ValueLength, scratch[entry.NameLength..]);
            Emit(name, value, false, entry.StaticName, sink);
            return true;
        }

        // Literal (§6.2): name by index or as a string literal, then the value string.
        if (rep.Index > HpackStaticTable.Count + _table.Count) return false;
        int nameRoom = rep.Index == 0
            ? (rep.NameHuffman ? Huffman.GetMaxDecodedLength(rep.NameLength) : 0)
            : rep.Index > HpackStaticTable.Count ? _table.Get(rep.Index - HpackStaticTable.Count).NameLength : 0;
        int valueRoom = rep.ValueHuffman ? Huffman.GetMaxDecodedLength(rep.ValueLength) : 0;
        Span<byte> buffer = Scratch(nameRoom + valueRoom);

        ReadOnlySpan<byte> fieldName;
        int staticName = 0;
        if (rep.Index == 0)
        {
            if (!ReadString(source.Slice(rep.NameOffset, rep.NameLength), rep.NameHuffman, buffer[..nameRoom], out fieldName)) return false;
        }
        else if (rep.Index <= HpackStaticTable.Count)
        {
            fieldName = HpackStaticTable.GetName(rep.Index);
            staticName = HpackStaticTable.FirstIndexOfName(rep.Index);
        }
        else
        {
            // Copied out of the ring: adding this very field below may evict the entry it names.
            ref readonly HpackDynamicTable.Entry entry = ref _table.Get(rep.Index - HpackStaticTable.Count);
            Span<byte> copy = buffer[..nameRoom];
            _table.Read(entry.Offset, entry.NameLength, copy).CopyTo(copy);
            fieldName = copy;
            staticName = entry.StaticName;
        }
        if (!ReadString(source.Slice(rep.ValueOffset, rep.ValueLength), rep.ValueHuffman, buffer[nameRoom..], out ReadOnlySpan<byte> fieldValue)) return false;

        if (rep.Kind == HpackRepresentationKind.LiteralIncremental) _table.Add(fieldName, fieldValue, staticName);
        Emit(fieldName, fieldValue, rep.Kind == HpackRepresentationKind.LiteralNeverIndexed, staticName, sink);
        return true;
    }

    private bool ApplySizeUpdate(int size)
    {
        // §4.2: only at the beginning of a block; §6.3: never above the SETTINGS_HEADER_TABLE_SIZE we advertised.
        if (_fieldSeen || size > _maxDynamicTableSize) return false;
        _table.SetMaxSize(size);
        _sizeUpdateRequired = false;
        return true;
    }

    private bool ReadString(ReadOnlySpan<byte> encoded, bool huffman, Span<byte> room, out ReadOnlySpan<byte> decoded)
    {
        if (!huffman)
        {
            decoded = encoded;
            return true;
        }
        // §5.2: EOS inside, padding over 7 bits or not all ones => decoding error. Repeats of recent strings
        // (a peer's literals without indexing) come from the memo, with the same results.
        OperationStatus status = _huffman.Decode(encoded, room, out int written);
        decoded = room[..written];
        return status == OperationStatus.Done;
    }

    /// <summary>Counts the field against the list limit (RFC 9113 §6.5.2) and passes it on while under it.</summary>
    private void Emit(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed, int staticName, IHpackHeaderSink sink)
    {
        _listSize += name.Length + value.Length + HpackDynamicTable.EntryOverhead;
        if (_listSize <= MaxHeaderListSize) sink.OnHeader(name, value, neverIndexed, staticName);
    }

    private Span<byte> Scratch(int length)
    {
        EnsureCapacity(ref _scratch, length);
        return _scratch.AsSpan(0, length);
    }

    /// <summary>Rents a larger pooled buffer when needed, keeping the contents (a carry-over grows in place).</summary>
    private static void EnsureCapacity([System.Diagnostics.CodeAnalysis.NotNull] ref byte[]? buffer, int length)
    {
        if (buffer is not null && buffer.Length >= length) return;
        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(length, 256));
        if (buffer is not null)
        {
            buffer.CopyTo(larger, 0);
            ArrayPool<byte>.Shared.Return(buffer);
        }
        buffer = larger;
    }
}
