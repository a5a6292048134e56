namespace Sidecar.Core.Hpack;

/// <summary>FNV-1a over bytes, optionally ASCII-lower-cased, for the table lookups (names match case-insensitively).</summary>
internal static class HpackHash
{
    private const uint Offset = 2166136261;
    private const uint Prime = 16777619;

    public static uint OfLowerCase(ReadOnlySpan<byte> bytes)
    {
        uint hash = Offset;
        foreach (byte b in bytes)
        {
            uint c = (uint)(b - 'A') <= 'Z' - 'A' ? (uint)(b | 0x20) : b;
            hash = (hash ^ c) * Prime;
        }
        return hash;
    }

    public static uint Of(ReadOnlySpan<byte> bytes)
    {
        uint hash = Offset;
        foreach (byte b in bytes) hash = (hash ^ b) * Prime;
        return hash;
    }
}
