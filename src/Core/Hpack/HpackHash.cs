using System.Buffers.Binary;
using System.Numerics;

namespace Sidecar.Core.Hpack;

/// <summary>
/// Hashes for the table lookups, eight bytes per step (values such as user-agents run to tens of bytes, and a
/// byte-at-a-time hash was a visible part of encoding). Names match case-insensitively, so they are hashed with ASCII
/// letters folded to lower case on the way: <c>OfLowerCase(x) == Of(lower(x))</c>. Only ever compared in-process.
/// </summary>
internal static class HpackHash
{
    private const ulong Multiplier = 0x9E3779B97F4A7C15;
    private const ulong Finisher = 0xFF51AFD7ED558CCD;

    public static uint OfLowerCase(ReadOnlySpan<byte> bytes) => Compute(bytes, lowerCase: true);

    public static uint Of(ReadOnlySpan<byte> bytes) => Compute(bytes, lowerCase: false);

    private static uint Compute(ReadOnlySpan<byte> bytes, bool lowerCase)
    {
        ulong hash = (ulong)bytes.Length * Multiplier;
        while (bytes.Length >= 8)
        {
            hash = Step(hash, Fold(BinaryPrimitives.ReadUInt64LittleEndian(bytes), lowerCase));
            bytes = bytes[8..];
        }
        // The tail, up to seven bytes, as one word (the length already went into the hash, so the overlapping
        // reads below cannot make two different tails of different lengths look alike through it).
        ulong tail = bytes.Length switch
        {
            >= 4 => BinaryPrimitives.ReadUInt32LittleEndian(bytes) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]) << 32),
            > 0 => bytes[0] | ((ulong)bytes[bytes.Length / 2] << 8) | ((ulong)bytes[^1] << 16),
            _ => 0,
        };
        hash = Step(hash, Fold(tail, lowerCase));
        // Final mix so that the low bits (the table buckets) depend on every input bit.
        hash ^= hash >> 33;
        hash *= Finisher;
        hash ^= hash >> 33;
        return (uint)hash;
    }

    private static ulong Step(ulong hash, ulong word) => BitOperations.RotateLeft((hash ^ word) * Multiplier, 29);

    /// <summary>Sets bit 5 of every byte in 'A'..'Z' (ASCII letters to lower case), eight bytes at once.</summary>
    private static ulong Fold(ulong word, bool lowerCase)
    {
        if (!lowerCase) return word;
        const ulong Ones = 0x0101010101010101;
        ulong low7 = word & (Ones * 0x7F);
        ulong aboveZ = low7 + Ones * (0x7F - 'Z');   // high bit set where the byte's low 7 bits are > 'Z'
        ulong atLeastA = low7 + Ones * (0x80 - 'A'); // high bit set where they are >= 'A'
        ulong upper = atLeastA & ~aboveZ & ~word & (Ones * 0x80); // ...and the byte itself is ASCII
        return word | (upper >> 2);
    }
}
