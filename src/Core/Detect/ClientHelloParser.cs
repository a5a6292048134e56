using System.Buffers;

namespace Sidecar.Core.Detect;

/// <summary>
/// Extracts SNI and ALPN from the ClientHello at the start of a TLS stream, like Envoy's tls_inspector.
/// Validates every length before using it; the only allocations are the values handed back in
/// <see cref="ClientHelloInfo"/> (and a pooled buffer when the message is split across records or segments).
/// </summary>
public static class ClientHelloParser
{
    /// <summary>
    /// Largest ClientHello handshake message we wait for, header included: 64 KiB, the default
    /// <c>max_client_hello_size</c> of Envoy's tls_inspector. Larger is reported as malformed.
    /// </summary>
    public const int MaxClientHelloBytes = 64 * 1024;

    /// <summary>RFC 8446 §4.2 ExtensionType server_name(0), defined by RFC 6066 §3.</summary>
    private const int ExtensionServerName = 0;

    /// <summary>RFC 8446 §4.2 ExtensionType application_layer_protocol_negotiation(16), RFC 7301 §3.1.</summary>
    private const int ExtensionAlpn = 16;

    /// <summary>
    /// Parses the ClientHello at the start of <paramref name="data"/> (the bytes received so far).
    /// <paramref name="info"/> is reset, and filled only when the result is <see cref="ClientHelloStatus.Ok"/>.
    /// </summary>
    public static ClientHelloStatus TryParse(in ReadOnlySequence<byte> data, ref ClientHelloInfo info)
    {
        info = default;
        ClientHelloStatus located = TlsHandshakeAssembler.Locate(data, MaxClientHelloBytes, out int messageLength);
        if (located != ClientHelloStatus.Ok)
        {
            return located;
        }

        ReadOnlySpan<byte> message = TlsHandshakeAssembler.TryGetContiguous(data, messageLength);
        if (!message.IsEmpty)
        {
            return ParseMessage(message, ref info);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(messageLength);
        try
        {
            Span<byte> copy = rented.AsSpan(0, messageLength);
            TlsHandshakeAssembler.CopyPayload(data, copy);
            return ParseMessage(copy, ref info);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Parses one complete handshake message (header included) known to be a ClientHello.</summary>
    private static ClientHelloStatus ParseMessage(ReadOnlySpan<byte> message, ref ClientHelloInfo info)
    {
        var hello = new SpanCursor(message[TlsHandshakeAssembler.HandshakeHeaderLength..]);

        // RFC 8446 §4.1.2: legacy_version (0x0303; older clients 0x0300..0x0303), major must be 3.
        if (!hello.TryReadUInt8(out int major) || major != 0x03 || !hello.TrySkip(1))
        {
            return ClientHelloStatus.Malformed;
        }

        // RFC 8446 §4.1.2: Random random (32 bytes).
        if (!hello.TrySkip(32))
        {
            return ClientHelloStatus.Malformed;
        }

        // RFC 8446 §4.1.2: opaque legacy_session_id<0..32>.
        if (!hello.TryReadVector8(out ReadOnlySpan<byte> sessionId) || sessionId.Length > 32)
        {
            return ClientHelloStatus.Malformed;
        }

        // RFC 8446 §4.1.2: CipherSuite cipher_suites<2..2^16-2>, two bytes per suite.
        if (!hello.TryReadVector16(out ReadOnlySpan<byte> suites) || suites.Length < 2 || (suites.Length & 1) != 0)
        {
            return ClientHelloStatus.Malformed;
        }

        // RFC 8446 §4.1.2: opaque legacy_compression_methods<1..2^8-1>.
        if (!hello.TryReadVector8(out ReadOnlySpan<byte> compression) || compression.IsEmpty)
        {
            return ClientHelloStatus.Malformed;
        }

        // RFC 5246 §7.4.1.2: a TLS 1.2 ClientHello may end here, without any extensions.
        if (hello.Remaining == 0)
        {
            info.ClientHelloLength = message.Length;
            return ClientHelloStatus.Ok;
        }

        // RFC 8446 §4.1.2: Extension extensions<8..2^16-1>, and nothing may follow it.
        if (!hello.TryReadVector16(out ReadOnlySpan<byte> extensionBlock) || hello.Remaining != 0)
        {
            return ClientHelloStatus.Malformed;
        }

        ReadOnlySpan<byte> hostName = default;
        ReadOnlySpan<byte> alpnList = default;
        bool sawServerName = false;
        bool sawAlpn = false;
        var extensions = new SpanCursor(extensionBlock);
        while (extensions.Remaining > 0)
        {
            // RFC 8446 §4.2: struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; }.
            if (!extensions.TryReadUInt16(out int type) || !extensions.TryReadVector16(out ReadOnlySpan<byte> body))
            {
                return ClientHelloStatus.Malformed;
            }

            if (type == ExtensionServerName)
            {
                // RFC 8446 §4.2: no more than one extension of the same type.
                if (sawServerName || !TlsExtensions.TryReadServerName(body, out hostName))
                {
                    return ClientHelloStatus.Malformed;
                }

                sawServerName = true;
            }
            else if (type == ExtensionAlpn)
            {
                if (sawAlpn || !TlsExtensions.IsValidProtocolNameList(body, out alpnList))
                {
                    return ClientHelloStatus.Malformed;
                }

                sawAlpn = true;
            }
        }

        // Everything validated: only now allocate what the caller keeps.
        info.ClientHelloLength = message.Length;
        if (!hostName.IsEmpty)
        {
            info.ServerName = TlsExtensions.ToLowerAsciiString(hostName);
        }

        if (sawAlpn)
        {
            info.ApplicationProtocols = TlsExtensions.ToProtocolNames(alpnList);
        }

        return ClientHelloStatus.Ok;
    }
}
