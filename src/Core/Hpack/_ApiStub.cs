// TEMPORARY: replaced by the hpack branch at merge.
using System.Buffers;
namespace Sidecar.Core.Hpack;
public interface IHpackHeaderSink { void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed); }
public enum HpackStatus : byte { Ok, CompressionError, HeaderListTooLarge }
public sealed class HpackDecoder
{
    public HpackDecoder(int maxDynamicTableSize = 4096, int maxHeaderListSize = 16 * 1024) { MaxDynamicTableSize = maxDynamicTableSize; MaxHeaderListSize = maxHeaderListSize; }
    public int MaxDynamicTableSize { get; set; }
    public int MaxHeaderListSize { get; set; }
    public HpackStatus Decode(ReadOnlySpan<byte> fragment, bool endHeaders, IHpackHeaderSink sink) => throw new NotImplementedException();
    public HpackStatus Decode(in ReadOnlySequence<byte> fragment, bool endHeaders, IHpackHeaderSink sink) => throw new NotImplementedException();
}
public sealed class HpackEncoder
{
    public HpackEncoder(int maxDynamicTableSize = 4096) { }
    public void SetPeerMaxTableSize(int size) { }
    public void BeginBlock(IBufferWriter<byte> output) { }
    public void Encode(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndex, IBufferWriter<byte> output) => throw new NotImplementedException();
}
