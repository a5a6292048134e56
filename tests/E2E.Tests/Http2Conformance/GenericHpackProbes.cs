namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// h2spec "generic/5": every HPACK representation (RFC 7541 §6) is accepted. Each probe appends one
/// hand-made representation of "user-agent: h2spec" (static-table name, index 58) or "x-test: h2spec"
/// (new name) to a plain request block. Huffman octets are the RFC 7541 Appendix B codes of those strings.
/// </summary>
public static class GenericHpackProbes
{
    private static readonly byte[] H2specRaw = [0x06, .. "h2spec"u8];
    private static readonly byte[] H2specHuffman = [0x84, 0x9c, 0x48, 0xac, 0xa4];
    private static readonly byte[] XTestRaw = [0x06, .. "x-test"u8];
    private static readonly byte[] XTestHuffman = [0x85, 0xf2, 0xb2, 0x4a, 0x84, 0xff];

    public static void AddTo(ProbeCatalog c)
    {
        Add(c, "Sends a indexed header field representation", suffix: [0x80 | 58]); // §6.1: user-agent with empty value

        // §6.2.1 incremental indexing: 01 + 6-bit index (58 → 0x7a) or 0x40 + literal name
        Add(c, "Sends a literal header field with incremental indexing - indexed name", suffix: [0x7a, .. H2specRaw]);
        Add(c, "Sends a literal header field with incremental indexing - indexed name (with Huffman coding)", suffix: [0x7a, .. H2specHuffman]);
        Add(c, "Sends a literal header field with incremental indexing - new name", suffix: [0x40, .. XTestRaw, .. H2specRaw]);
        Add(c, "Sends a literal header field with incremental indexing - new name (with Huffman coding)", suffix: [0x40, .. XTestHuffman, .. H2specHuffman]);

        // §6.2.2 without indexing: 0000 + 4-bit index (58 = 15 + 43 → 0x0f 0x2b) or 0x00 + literal name
        Add(c, "Sends a literal header field without indexing - indexed name", suffix: [0x0f, 0x2b, .. H2specRaw]);
        Add(c, "Sends a literal header field without indexing - indexed name (with Huffman coding)", suffix: [0x0f, 0x2b, .. H2specHuffman]);
        Add(c, "Sends a literal header field without indexing - new name", suffix: [0x00, .. XTestRaw, .. H2specRaw]);
        Add(c, "Sends a literal header field without indexing - new name (huffman encoded)", suffix: [0x00, .. XTestHuffman, .. H2specHuffman]);

        // §6.2.3 never indexed: 0001 + 4-bit index or 0x10 + literal name
        Add(c, "Sends a literal header field never indexed - indexed name", suffix: [0x1f, 0x2b, .. H2specRaw]);
        Add(c, "Sends a literal header field never indexed - indexed name (huffman encoded)", suffix: [0x1f, 0x2b, .. H2specHuffman]);
        Add(c, "Sends a literal header field never indexed - new name", suffix: [0x10, .. XTestRaw, .. H2specRaw]);
        Add(c, "Sends a literal header field never indexed - new name (huffman encoded)", suffix: [0x10, .. XTestHuffman, .. H2specHuffman]);

        // §6.3 / §4.2: size updates at the start of a block (two: the smallest, then the final size)
        Add(c, "Sends a dynamic table size update", prefix: ProbeHpack.TableSizeUpdate(0));
        Add(c, "Sends multiple dynamic table size update", prefix: [.. ProbeHpack.TableSizeUpdate(0), .. ProbeHpack.TableSizeUpdate(4096)]);
    }

    private static void Add(ProbeCatalog c, string description, byte[]? prefix = null, byte[]? suffix = null) =>
        c.Add("generic/5", description, async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, true, true, [.. prefix ?? [], .. s.CommonBlock(), .. suffix ?? []]);
            return await s.ExpectHeaders(1);
        });
}
