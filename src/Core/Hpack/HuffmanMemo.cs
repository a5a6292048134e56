using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Sidecar.Core.Hpack;

/// <summary>
/// A decoder's memory of the last few Huffman strings it decoded (RFC 7541 §5.2) and what they decoded to. Peers
/// such as nginx 1.22 send their response fields (server, date, content-type, content-length) as Huffman literals on
/// every response — with incremental indexing, but never referring to the entries — and clients such as h2load send
/// :path as one: the same encoded bytes again and again, each a walk of the code's state machine. A hit
/// here is a compare of the encoded bytes with the stored ones, all of them, and a copy of the stored result; a
/// string is stored only after it decoded without error, so a hit can never turn bad input into good or differ from
/// what <see cref="Huffman.Decode"/> would give. Memory is fixed (one 1 KiB array, taken on the first store); nothing
/// is allocated per string.
/// </summary>
internal sealed class HuffmanMemo
{
    /// <summary>Longer strings are decoded every time: a memo of long unique values (paths, cookies) would only churn.</summary>
    public const int MaxEncodedLength = 48;

    /// <summary>8 slots: a response's constant fields plus a date that changes once a second fit with room to spare.</summary>
    private const int SlotCount = 8;

    /// <summary>The most a string of <see cref="MaxEncodedLength"/> bytes decodes to: the shortest code is 5 bits.</summary>
    private const int MaxDecodedLength = MaxEncodedLength * 8 / 5;

    /// <summary>Per slot: the encoded bytes, then the decoded ones.</summary>
    private const int SlotSize = 128;

    /// <summary>Compile-time check: a constant that does not fit the type is an error, so a slot too small for the
    /// longest decoding, or a decoded length past a byte, does not build.</summary>
    private const byte SlotRoomLeft = SlotSize - MaxEncodedLength - MaxDecodedLength;
    private const byte DecodedLengthFitsAByte = MaxDecodedLength;

    private byte[]? _slots;
    private SlotWords _keys;         // encoded length | first seven bytes << 8; 0 = empty (a stored string is never empty)
    private SlotBytes _decodedLengths;
    private int _nextVictim;         // stores go round the slots: oldest stored is replaced first

    [InlineArray(SlotCount)]
    private struct SlotWords { private ulong _first; }

    [InlineArray(SlotCount)]
    private struct SlotBytes { private byte _first; }

    /// <summary>Same contract and results as <see cref="Huffman.Decode"/>.</summary>
    public OperationStatus Decode(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
    {
        if (source.IsEmpty || source.Length > MaxEncodedLength) return Huffman.Decode(source, destination, out written);
        ulong key = KeyOf(source);
        byte[]? slots = _slots;
        if (slots is not null)
        {
            for (int slot = 0; slot < SlotCount; slot++)
            {
                // The key only narrows the search; the whole encoded string is compared before the result is used.
                if (_keys[slot] != key) continue;
                ReadOnlySpan<byte> stored = slots.AsSpan(slot * SlotSize, SlotSize);
                if (!stored[..source.Length].SequenceEqual(source)) continue;
                int length = _decodedLengths[slot];
                if (destination.Length < length)
                {
                    written = 0;
                    return OperationStatus.DestinationTooSmall;
                }
                stored.Slice(MaxEncodedLength, length).CopyTo(destination);
                written = length;
                return OperationStatus.Done;
            }
        }
        OperationStatus status = Huffman.Decode(source, destination, out written);
        if (status == OperationStatus.Done) Store(key, source, destination[..written]);
        return status;
    }

    private void Store(ulong key, ReadOnlySpan<byte> encoded, ReadOnlySpan<byte> decoded)
    {
        byte[] slots = _slots ??= new byte[SlotCount * SlotSize];
        int slot = _nextVictim;
        _nextVictim = (slot + 1) % SlotCount;
        Span<byte> target = slots.AsSpan(slot * SlotSize, SlotSize);
        encoded.CopyTo(target);
        decoded.CopyTo(target[MaxEncodedLength..]);
        _keys[slot] = key;
        _decodedLengths[slot] = (byte)decoded.Length;
    }

    /// <summary>The length and the first seven bytes (all of a string that short): never 0 for a non-empty string.</summary>
    private static ulong KeyOf(ReadOnlySpan<byte> source)
    {
        if (source.Length >= 8) return (BinaryPrimitives.ReadUInt64LittleEndian(source) << 8) | (uint)source.Length;
        ulong key = (uint)source.Length;
        for (int i = 0; i < source.Length; i++) key |= (ulong)source[i] << (8 * (i + 1));
        return key;
    }
}
