using System.Buffers;

namespace Sidecar.Core.Detect;

/// <summary>
/// Finds the first handshake message in the TLS record stream. A ClientHello may be fragmented over
/// several handshake records (RFC 8446 §5.1), and the records over several buffer segments; this walks
/// record headers in place and only copies when the message is not already contiguous.
/// </summary>
internal static class TlsHandshakeAssembler
{
    /// <summary>RFC 8446 §4: msg_type(1) length(3).</summary>
    public const int HandshakeHeaderLength = 4;

    /// <summary>
    /// Validates the record headers covering the first handshake message and returns its total length
    /// (header included) once every byte of it has arrived.
    /// </summary>
    public static ClientHelloStatus Locate(in ReadOnlySequence<byte> data, int maxMessageLength, out int messageLength)
    {
        messageLength = 0;
        Span<byte> head = stackalloc byte[TlsRecord.ProbeLength];
        int headLength = (int)Math.Min(data.Length, head.Length);
        data.Slice(0, headLength).CopyTo(head);
        bool? isClientHello = TlsRecord.StartsWithClientHello(head[..headLength]);
        if (isClientHello is null)
        {
            return ClientHelloStatus.NeedMoreData;
        }

        if (isClientHello is false)
        {
            return ClientHelloStatus.NotTls;
        }

        long recordStart = 0;
        long payloadAvailable = 0;
        int needed = -1;
        Span<byte> header = stackalloc byte[TlsRecord.HeaderLength];
        Span<byte> hs = stackalloc byte[HandshakeHeaderLength];
        while (true)
        {
            if (data.Length - recordStart < TlsRecord.HeaderLength)
            {
                return ClientHelloStatus.NeedMoreData;
            }

            data.Slice(recordStart, TlsRecord.HeaderLength).CopyTo(header);

            // RFC 8446 §5.1: "Handshake messages MUST NOT be interleaved with other record types".
            // Continuation records must be handshake records of the same (major 3) version family.
            if (header[0] != TlsRecord.ContentTypeHandshake || header[1] != 0x03)
            {
                return ClientHelloStatus.Malformed;
            }

            // RFC 8446 §5.1: zero-length handshake fragments MUST NOT be sent; length <= 2^14.
            int recordLength = (header[3] << 8) | header[4];
            if (recordLength == 0 || recordLength > TlsRecord.MaxPlaintextLength)
            {
                return ClientHelloStatus.Malformed;
            }

            long bodyAvailable = Math.Min(recordLength, data.Length - recordStart - TlsRecord.HeaderLength);
            payloadAvailable += bodyAvailable;

            if (needed < 0 && payloadAvailable >= HandshakeHeaderLength)
            {
                // The 24-bit length may itself be split across records; copy it out record by record.
                CopyPayload(data, hs);
                int bodyLength = (hs[1] << 16) | (hs[2] << 8) | hs[3];

                // RFC 8446 §4.1.2: a ClientHello has at least version, random and four vectors; an
                // empty one is malformed. Larger than our cap: Envoy's tls_inspector gives up too.
                if (bodyLength == 0 || bodyLength > maxMessageLength - HandshakeHeaderLength)
                {
                    return ClientHelloStatus.Malformed;
                }

                needed = HandshakeHeaderLength + bodyLength;
            }

            if (needed >= 0 && payloadAvailable >= needed)
            {
                messageLength = needed;
                return ClientHelloStatus.Ok;
            }

            if (bodyAvailable < recordLength)
            {
                return ClientHelloStatus.NeedMoreData;
            }

            recordStart += TlsRecord.HeaderLength + recordLength;
        }
    }

    /// <summary>
    /// Copies the first <c>destination.Length</c> handshake payload bytes, skipping record headers.
    /// Only called after <see cref="Locate"/> validated the records that hold them.
    /// </summary>
    public static void CopyPayload(in ReadOnlySequence<byte> data, Span<byte> destination)
    {
        long recordStart = 0;
        int copied = 0;
        Span<byte> lengthBytes = stackalloc byte[2];
        while (copied < destination.Length)
        {
            data.Slice(recordStart + 3, 2).CopyTo(lengthBytes);
            int recordLength = (lengthBytes[0] << 8) | lengthBytes[1];
            long bodyStart = recordStart + TlsRecord.HeaderLength;
            int chunk = (int)Math.Min(Math.Min(recordLength, destination.Length - copied), data.Length - bodyStart);
            data.Slice(bodyStart, chunk).CopyTo(destination[copied..]);
            copied += chunk;
            recordStart = bodyStart + recordLength;
        }
    }

    /// <summary>
    /// The message as one span without copying when it sits in the first record of the first segment
    /// (the common case), else default.
    /// </summary>
    public static ReadOnlySpan<byte> TryGetContiguous(in ReadOnlySequence<byte> data, int messageLength)
    {
        ReadOnlySpan<byte> first = data.FirstSpan;
        if (first.Length < TlsRecord.HeaderLength + messageLength)
        {
            return default;
        }

        int recordLength = (first[3] << 8) | first[4];
        return recordLength >= messageLength ? first.Slice(TlsRecord.HeaderLength, messageLength) : default;
    }
}
