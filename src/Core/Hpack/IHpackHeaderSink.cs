namespace Sidecar.Core.Hpack;

/// <summary>Receives decoded fields in order. Spans are valid only during the call.</summary>
public interface IHpackHeaderSink
{
    /// <summary>One decoded field.</summary>
    /// <param name="name">Field name as sent (HPACK does not change case; RFC 9113 §8.2.1 validation is the caller's job).</param>
    /// <param name="value">Field value as sent.</param>
    /// <param name="neverIndexed">The field came as "literal never indexed" (RFC 7541 §6.2.3); a proxy must re-encode it the same way.</param>
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed);

    /// <summary>
    /// One decoded field whose name the decoder knows as a static-table name (RFC 7541 Appendix A): the peer sent it
    /// by static index, or by an index into a dynamic entry that was added that way. <paramref name="staticNameIndex"/>
    /// is the first static index with that name (:status is 8 whatever the code), or 0 when unknown. Such a name is
    /// one of the table's lower-case names, so a sink may skip checking it. This is what the decoder calls; a sink
    /// with no use for the index need not implement it.
    /// </summary>
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed, int staticNameIndex) => OnHeader(name, value, neverIndexed);
}
