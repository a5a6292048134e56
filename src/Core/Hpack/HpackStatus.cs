namespace Sidecar.Core.Hpack;

/// <summary>Outcome of <see cref="HpackDecoder.Decode(ReadOnlySpan{byte}, bool, IHpackHeaderSink)"/>.</summary>
public enum HpackStatus : byte
{
    /// <summary>Fragment consumed (if endHeaders: the block is complete).</summary>
    Ok,

    /// <summary>
    /// RFC 9113 §4.3: connection error COMPRESSION_ERROR (bad index, bad Huffman/EOS padding, integer overflow,
    /// size update above the limit or not at the block start, block truncated at endHeaders, a representation split
    /// across fragments that is larger than the carry-over bound). The decoder is unusable afterwards.
    /// </summary>
    CompressionError,

    /// <summary>
    /// The decoded list size (RFC 9113 §6.5.2: sum of name + value + 32) exceeded MaxHeaderListSize. The fragment was
    /// still fully decoded (the dynamic table stays in sync) but the sink was not called once over the limit. Returned
    /// for this and every later fragment of the same block; keep feeding the block's remaining fragments, then answer
    /// 431 / RST_STREAM.
    /// </summary>
    HeaderListTooLarge,
}
