namespace Sidecar.Core.Hpack;

/// <summary>Receives decoded fields in order. Spans are valid only during the call.</summary>
public interface IHpackHeaderSink
{
    /// <summary>One decoded field.</summary>
    /// <param name="name">Field name as sent (HPACK does not change case; RFC 9113 §8.2.1 validation is the caller's job).</param>
    /// <param name="value">Field value as sent.</param>
    /// <param name="neverIndexed">The field came as "literal never indexed" (RFC 7541 §6.2.3); a proxy must re-encode it the same way.</param>
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed);
}
