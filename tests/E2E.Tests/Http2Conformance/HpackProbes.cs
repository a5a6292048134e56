using static Sidecar.E2E.Tests.Http2Conformance.H2Error;

namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// h2spec "hpack" group: decoding errors in a header block (RFC 7541) are connection errors of type
/// COMPRESSION_ERROR (RFC 9113 §4.3). Each probe appends (or prepends) one bad representation to a valid request block.
/// </summary>
public static class HpackProbes
{
    public static void AddTo(ProbeCatalog c)
    {
        // 2.3.3 — indices beyond static + dynamic table (61 + 0 entries on a fresh connection)
        Add(c, "hpack/2.3.3", "Sends a indexed header field representation with invalid index", suffix: [0x80 | 70]);
        Add(c, "hpack/2.3.3", "Sends a literal header field representation with invalid index", suffix: [0x40 | 62, 0x04, .. "test"u8]);

        // 4.2 — a size update only at the start of a block
        Add(c, "hpack/4.2", "Sends a dynamic table size update at the end of header block", suffix: ProbeHpack.TableSizeUpdate(1));

        // 5.2 — Huffman padding rules ("x-test: test"; "test" is 49 50 9f in Huffman)
        Add(c, "hpack/5.2", "Sends a Huffman-encoded string literal representation with padding longer than 7 bits",
            suffix: [0x00, 0x85, 0xf2, 0xb2, 0x4a, 0x84, 0xff, 0x84, 0x49, 0x50, 0x9f, 0xff]);
        Add(c, "hpack/5.2", "Sends a Huffman-encoded string literal representation padded by zero",
            suffix: [0x00, 0x85, 0xf2, 0xb2, 0x4a, 0x84, 0xff, 0x83, 0x49, 0x50, 0x90]);
        Add(c, "hpack/5.2", "Sends a Huffman-encoded string literal representation containing the EOS symbol",
            suffix: [0x00, 0x85, 0xf2, 0xb2, 0x4a, 0x84, 0xff, 0x87, 0xff, 0xff, 0xff, 0xfd, 0x25, 0x42, 0x7f]);

        // 6.1 — index 0 is not used
        Add(c, "hpack/6.1", "Sends a indexed header field representation with index 0", suffix: [0x80]);

        // 6.3 — a size update above SETTINGS_HEADER_TABLE_SIZE (the decoder's limit; 4096 unless advertised)
        c.Add("hpack/6.3", "Sends a dynamic table size update larger than the value of SETTINGS_HEADER_TABLE_SIZE", async s =>
        {
            await s.Handshake();
            var limit = s.Conn.ServerSettings.TryGetValue(SettingId.HeaderTableSize, out var v) ? v : 4096;
            s.Conn.WriteHeaders(1, true, true, [.. ProbeHpack.TableSizeUpdate(limit + 1L), .. s.CommonBlock()]);
            return await s.ExpectConnectionError(CompressionError);
        });
    }

    private static void Add(ProbeCatalog c, string section, string description, byte[] suffix) =>
        c.Add(section, description, async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, true, true, [.. s.CommonBlock(), .. suffix]);
            return await s.ExpectConnectionError(CompressionError);
        });
}
