using System.Security.Cryptography;

namespace Sidecar.Core.Identity;

/// <summary>One decoded PEM block (RFC 7468): its label and DER bytes.</summary>
public readonly record struct PemBlock(string Label, byte[] Der);

/// <summary>
/// Splits PEM text into blocks leniently: text between blocks is ignored (comments are common in bundles), and every
/// "-----BEGIN" that does not start a well-formed block (bad base64, missing END, label mismatch) is counted as malformed
/// and skipped rather than failing the whole file — what Istio 1.28 does for root bundles.
/// </summary>
public static class PemBlocks
{
    private const string BeginMarker = "-----BEGIN ";

    public static List<PemBlock> Read(ReadOnlySpan<char> text, out int malformed)
    {
        var blocks = new List<PemBlock>();
        malformed = 0;
        var position = 0;
        while (position < text.Length)
        {
            var begin = text[position..].IndexOf(BeginMarker, StringComparison.Ordinal);
            if (begin < 0) break;
            begin += position;
            // PemEncoding validates the RFC 7468 structure and the base64; a block found further on means the one at
            // `begin` is broken, and the next loop turn picks up the later one on its own.
            if (PemEncoding.TryFind(text[begin..], out var fields) && fields.Location.Start.Value == 0)
            {
                var base64 = text[begin..][fields.Base64Data];
                var der = new byte[fields.DecodedDataLength];
                if (Convert.TryFromBase64Chars(base64, der, out var written) && written == der.Length)
                {
                    blocks.Add(new PemBlock(text[begin..][fields.Label].ToString(), der));
                }
                else
                {
                    malformed++;
                }
                position = begin + fields.Location.End.Value;
            }
            else
            {
                malformed++;
                position = begin + BeginMarker.Length;
            }
        }
        return blocks;
    }
}
