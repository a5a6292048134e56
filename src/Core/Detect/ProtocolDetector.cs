using System.Buffers;
using System.Runtime.CompilerServices;

namespace Sidecar.Core.Detect;

/// <summary>
/// Classifies a new downstream connection from its first bytes: TLS, HTTP/2 prior knowledge,
/// HTTP/1 or opaque TCP. Pure and allocation-free: it only looks at the bytes, never consumes them,
/// and is called again with the whole buffered prefix each time more data arrives.
/// </summary>
public static class ProtocolDetector
{
    /// <summary>
    /// The most bytes ever examined. Only an HTTP/1 request line with an extension method can need that
    /// many; if it is still undecided at this length the connection is treated as opaque, because a
    /// misdetected HTTP stream still works as TCP while a misdetected TCP stream would be broken.
    /// </summary>
    public const int MaxProbeBytes = 2048;

    /// <summary>
    /// Inspects the bytes received so far. Returns <see cref="DetectStatus.NeedMoreData"/> (with
    /// <see cref="DetectedProtocol.Unknown"/>) while more than one protocol is still possible, otherwise
    /// <see cref="DetectStatus.Detected"/>. Never waits for more than <see cref="MaxProbeBytes"/> bytes;
    /// the caller's timeout covers peers that stop sending.
    /// </summary>
    [SkipLocalsInit]
    public static DetectStatus Detect(in ReadOnlySequence<byte> firstBytes, out DetectedProtocol protocol)
    {
        bool atProbeLimit = firstBytes.Length >= MaxProbeBytes;
        int take = (int)Math.Min(firstBytes.Length, MaxProbeBytes);
        bool contiguous = firstBytes.FirstSpan.Length >= take;

        // Split across segments: flatten the probe window on the stack, never on the heap.
        Span<byte> scratch = contiguous ? default : stackalloc byte[MaxProbeBytes];
        scoped ReadOnlySpan<byte> head;
        if (contiguous)
        {
            head = firstBytes.FirstSpan[..take];
        }
        else
        {
            firstBytes.Slice(0, take).CopyTo(scratch);
            head = scratch[..take];
        }

        return Detect(head, atProbeLimit, out protocol);
    }

    /// <summary>Span form of <see cref="Detect(in ReadOnlySequence{byte}, out DetectedProtocol)"/>.</summary>
    public static DetectStatus Detect(ReadOnlySpan<byte> firstBytes, out DetectedProtocol protocol)
    {
        bool atProbeLimit = firstBytes.Length >= MaxProbeBytes;
        return Detect(atProbeLimit ? firstBytes[..MaxProbeBytes] : firstBytes, atProbeLimit, out protocol);
    }

    private static DetectStatus Detect(ReadOnlySpan<byte> head, bool atProbeLimit, out DetectedProtocol protocol)
    {
        protocol = DetectedProtocol.Unknown;
        if (head.IsEmpty)
        {
            return DetectStatus.NeedMoreData;
        }

        // 0x16 is not a token character, so a TLS record can never be mistaken for a request line.
        if (head[0] == TlsRecord.ContentTypeHandshake)
        {
            bool? tls = TlsRecord.StartsWithClientHello(head);
            return tls switch
            {
                null => DetectStatus.NeedMoreData,
                true => Decided(DetectedProtocol.Tls, out protocol),
                false => Decided(DetectedProtocol.Opaque, out protocol),
            };
        }

        // RFC 9113 §3.4: the preface starts with "PRI ", which is also a valid HTTP/1 request-line
        // start, so the preface is checked first and HTTP/1 only gets the stream once it diverges.
        if (Http2Preface.IsPrefixOrWhole(head))
        {
            return head.Length >= Http2Preface.Bytes.Length
                ? Decided(DetectedProtocol.Http2, out protocol)
                : DetectStatus.NeedMoreData;
        }

        bool? http1 = Http1RequestLine.Matches(head, atProbeLimit);
        return http1 switch
        {
            null => DetectStatus.NeedMoreData,
            true => Decided(DetectedProtocol.Http1, out protocol),
            false => Decided(DetectedProtocol.Opaque, out protocol),
        };
    }

    private static DetectStatus Decided(DetectedProtocol value, out DetectedProtocol protocol)
    {
        protocol = value;
        return DetectStatus.Detected;
    }
}
