namespace Sidecar.Core.Http;

/// <summary>
/// What routing needs to see of a request, without copying it: the request head stays as raw
/// bytes in the codec's buffer and is looked at through spans. Implemented by HTTP/1 and HTTP/2
/// request heads; consumed generically (<c>where T : IRequestView, allows ref struct</c>) so no boxing.
/// </summary>
public interface IRequestView
{
    /// <summary>Host (HTTP/1) or :authority (HTTP/2), as received (may include a port).</summary>
    ReadOnlySpan<byte> Authority { get; }
    /// <summary>The origin-form path including any query string ("/a/b?x=1").</summary>
    ReadOnlySpan<byte> PathAndQuery { get; }
    /// <summary>The method token ("GET").</summary>
    ReadOnlySpan<byte> Method { get; }
    /// <summary>Number of header fields (pseudo-headers excluded).</summary>
    int HeaderCount { get; }
    /// <summary>Name of field <paramref name="index"/> as received (any case).</summary>
    ReadOnlySpan<byte> GetHeaderName(int index);
    ReadOnlySpan<byte> GetHeaderValue(int index);
}
