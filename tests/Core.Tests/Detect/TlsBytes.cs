using System.Text;

namespace Sidecar.Core.Tests.Detect;

/// <summary>Hand-built TLS structures for malformed-input tests, and re-framing of golden ClientHellos.</summary>
internal static class TlsBytes
{
    /// <summary>Extracts the handshake payload (all record bodies) from a golden record stream.</summary>
    public static byte[] HandshakePayload(byte[] records)
    {
        var payload = new List<byte>();
        int i = 0;
        while (i + 5 <= records.Length && records[i] == 0x16)
        {
            int len = (records[i + 3] << 8) | records[i + 4];
            payload.AddRange(records.AsSpan(i + 5, len).ToArray());
            i += 5 + len;
        }

        return payload.ToArray();
    }

    /// <summary>Wraps a handshake payload in handshake records of at most <paramref name="fragment"/> bytes.</summary>
    public static byte[] Records(byte[] payload, int fragment, byte versionMinor = 0x01)
    {
        var output = new List<byte>();
        foreach (byte[] chunk in payload.Chunk(fragment))
        {
            output.AddRange([0x16, 0x03, versionMinor, (byte)(chunk.Length >> 8), (byte)chunk.Length]);
            output.AddRange(chunk);
        }

        return output.ToArray();
    }

    public static byte[] U16(int v) => [(byte)(v >> 8), (byte)v];

    public static byte[] Vec8(params byte[] body) => [(byte)body.Length, .. body];

    public static byte[] Vec16(params byte[] body) => [.. U16(body.Length), .. body];

    public static byte[] Extension(int type, byte[] data) => [.. U16(type), .. Vec16(data)];

    public static byte[] Sni(string host) => Extension(0, Vec16([0x00, .. Vec16(Encoding.ASCII.GetBytes(host))]));

    public static byte[] Alpn(params string[] protocols) =>
        Extension(16, Vec16(protocols.SelectMany(p => Vec8(Encoding.ASCII.GetBytes(p))).ToArray()));

    /// <summary>A ClientHello handshake message (header included) with the given pieces.</summary>
    public static byte[] ClientHello(
        byte[]? extensions = null,
        byte[]? sessionId = null,
        byte[]? cipherSuites = null,
        byte[]? compression = null,
        byte[]? trailer = null,
        bool omitExtensions = false)
    {
        byte[] body =
        [
            0x03, 0x03,
            .. new byte[32],
            .. Vec8(sessionId ?? new byte[32]),
            .. Vec16(cipherSuites ?? [0x13, 0x01, 0x13, 0x02]),
            .. Vec8(compression ?? [0x00]),
            .. omitExtensions ? [] : Vec16(extensions ?? []),
            .. trailer ?? [],
        ];
        return [0x01, (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length, .. body];
    }

    /// <summary>A single-record stream carrying <see cref="ClientHello"/>.</summary>
    public static byte[] Stream(byte[] handshake) => Records(handshake, 16384);
}
