namespace Sidecar.Core.Detect;

/// <summary>
/// The TLS record layer facts shared by <see cref="ProtocolDetector"/> and <see cref="ClientHelloParser"/>,
/// so both agree byte-for-byte on what "starts like a ClientHello" means.
/// </summary>
internal static class TlsRecord
{
    /// <summary>RFC 8446 §5.1: type(1) legacy_record_version(2) length(2).</summary>
    public const int HeaderLength = 5;

    /// <summary>RFC 8446 §5.1 ContentType handshake(22).</summary>
    public const byte ContentTypeHandshake = 0x16;

    /// <summary>RFC 8446 §4 HandshakeType client_hello(1).</summary>
    public const byte HandshakeTypeClientHello = 0x01;

    /// <summary>RFC 8446 §5.1: "The length MUST NOT exceed 2^14 bytes" for TLSPlaintext.</summary>
    public const int MaxPlaintextLength = 1 << 14;

    /// <summary>Bytes needed to decide: record header plus the handshake msg_type.</summary>
    public const int ProbeLength = HeaderLength + 1;

    /// <summary>
    /// Decides from at most <see cref="ProbeLength"/> bytes whether the stream starts with a handshake
    /// record carrying a ClientHello. Returns null when <paramref name="head"/> is too short to say.
    /// </summary>
    public static bool? StartsWithClientHello(ReadOnlySpan<byte> head)
    {
        if (head.Length < 1)
        {
            return null;
        }

        // RFC 8446 §5.1: the first record of a TLS connection is a handshake record.
        if (head[0] != ContentTypeHandshake)
        {
            return false;
        }

        if (head.Length < 2)
        {
            return null;
        }

        // RFC 8446 §5.1 legacy_record_version: 0x0301 for an initial ClientHello, 0x0300..0x0303 from
        // older stacks (RFC 8446 Appendix D). Major 3 is the only one SSLv3/TLS ever used.
        if (head[1] != 0x03)
        {
            return false;
        }

        if (head.Length < 3)
        {
            return null;
        }

        if (head[2] > 0x04)
        {
            return false;
        }

        if (head.Length < HeaderLength)
        {
            return null;
        }

        // RFC 8446 §5.1: zero-length handshake fragments MUST NOT be sent; length MUST NOT exceed 2^14.
        int length = (head[3] << 8) | head[4];
        if (length == 0 || length > MaxPlaintextLength)
        {
            return false;
        }

        if (head.Length < ProbeLength)
        {
            return null;
        }

        // RFC 8446 §4.1.2: the client's first handshake message is the ClientHello.
        return head[HeaderLength] == HandshakeTypeClientHello;
    }
}
