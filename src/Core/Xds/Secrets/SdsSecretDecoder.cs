using System.Text;
using Sidecar.Core.Identity;
using Sidecar.Core.Protobuf;

namespace Sidecar.Core.Xds.Secrets;

/// <summary>
/// One decoded SDS secret: a certificate (chain + key; its own chain stands in as roots until a validation context is
/// combined with it) and/or trusted roots. Immutable: a new version is a new instance, so a handshake that read one
/// keeps a consistent view.
/// </summary>
public sealed record SdsSecretValue(WorkloadCertificate? Certificate, TrustBundle? Trust);

/// <summary>
/// Decodes <c>envoy.extensions.transport_sockets.tls.v3.Secret</c> and loads what it carries, refusing what we cannot
/// honour with a reason for the NACK. Field numbers: secret.proto (Secret name=1 tls_certificate=2
/// session_ticket_keys=3 validation_context=4 generic_secret=5), common.proto (TlsCertificate certificate_chain=1
/// private_key=2 password=3 ocsp_staple=4 signed_certificate_timestamp=5 private_key_provider=6 watched_directory=7
/// pkcs12=8; CertificateValidationContext trusted_ca=1, every other field refused), base.proto (DataSource
/// filename=1 inline_bytes=2 inline_string=3 environment_variable=4). A generic_secret (used by Envoy's OAuth2/
/// credential filters, which we do not run) is accepted and ignored.
/// </summary>
public static class SdsSecretDecoder
{
    /// <returns>null and the value, or the reason the secret is refused.</returns>
    public static string? TryDecode(ReadOnlySpan<byte> secret, DateTimeOffset now, out SdsSecretValue? value)
    {
        value = null;
        string? chain = null, key = null, roots = null;
        bool hasCertificate = false, hasValidation = false;
        var r = new ProtoReader(secret);
        while (r.TryReadTag(out int field, out WireType type))
        {
            if (type != WireType.LengthDelimited || field is not (2 or 3 or 4))
            {
                if (!r.TrySkip(type)) break;
                continue;
            }
            if (!r.TryReadBytes(out ReadOnlySpan<byte> nested)) break;
            string? error = field switch
            {
                2 => ReadCertificate(nested, out chain, out key),
                3 => "session_ticket_keys secrets are not supported",
                _ => ReadValidation(nested, out roots),
            };
            if (error is not null) return error;
            hasCertificate |= field == 2;
            hasValidation |= field == 4;
        }
        if (r.Error != ProtoError.None) return $"malformed protobuf ({r.Error})";

        WorkloadCertificate? certificate = null;
        TrustBundle? trust = null;
        if (hasCertificate)
        {
            if (chain is null || key is null) return "tls_certificate needs certificate_chain and private_key";
            // The chain stands in as roots: a certificate secret has none of its own (a validation secret may be combined).
            CertificateLoadError loadError = WorkloadCertificateLoader.TryLoad(chain, key, chain, now, out certificate);
            if (loadError != CertificateLoadError.None) return $"tls_certificate refused: {loadError}";
        }
        if (hasValidation)
        {
            if (roots is null) return "validation_context needs trusted_ca";
            if (TrustBundle.TryParse(roots, out trust) != TrustBundleError.None) return "validation_context.trusted_ca holds no valid root certificate";
        }
        value = new SdsSecretValue(certificate, trust);
        return null;
    }

    private static string? ReadCertificate(ReadOnlySpan<byte> message, out string? chain, out string? key)
    {
        chain = key = null;
        var r = new ProtoReader(message);
        while (r.TryReadTag(out int field, out WireType type))
        {
            if ((field == 1 || field == 2) && type == WireType.LengthDelimited)
            {
                if (!r.TryReadBytes(out ReadOnlySpan<byte> source)) break;
                string what = field == 1 ? "certificate_chain" : "private_key";
                string? error = ReadDataSource(source, what, out string? text);
                if (error is not null) return error;
                if (field == 1) chain = text;
                else key = text;
            }
            else if (field is >= 3 and <= 8)
            {
                return $"tls_certificate field {Unsupported(field)} is not supported";
            }
            else if (!r.TrySkip(type)) break;
        }
        return r.Error == ProtoError.None ? null : $"malformed protobuf ({r.Error})";
    }

    private static string Unsupported(int field) => field switch
    {
        3 => "password",
        4 => "ocsp_staple",
        5 => "signed_certificate_timestamp",
        6 => "private_key_provider",
        7 => "watched_directory",
        _ => "pkcs12",
    };

    private static string? ReadValidation(ReadOnlySpan<byte> message, out string? roots)
    {
        roots = null;
        var r = new ProtoReader(message);
        while (r.TryReadTag(out int field, out WireType type))
        {
            if (field == 1 && type == WireType.LengthDelimited)
            {
                if (!r.TryReadBytes(out ReadOnlySpan<byte> source)) break;
                string? error = ReadDataSource(source, "trusted_ca", out roots);
                if (error is not null) return error;
            }
            else
            {
                // SAN matchers, CRLs, SPKI/hash pins… in a secret would change who is trusted: never ignore them.
                return $"validation_context field {field} is not supported (only trusted_ca)";
            }
        }
        return r.Error == ProtoError.None ? null : $"malformed protobuf ({r.Error})";
    }

    /// <summary>DataSource: inline bytes/string, a file (read now), or an environment variable.</summary>
    private static string? ReadDataSource(ReadOnlySpan<byte> message, string what, out string? text)
    {
        text = null;
        var r = new ProtoReader(message);
        while (r.TryReadTag(out int field, out WireType type))
        {
            if (type != WireType.LengthDelimited || field is < 1 or > 4)
            {
                if (!r.TrySkip(type)) break;
                continue;
            }
            if (!r.TryReadBytes(out ReadOnlySpan<byte> bytes)) break;
            switch (field)
            {
                case 1:
                    string path = Encoding.UTF8.GetString(bytes);
                    try
                    {
                        text = File.ReadAllText(path);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                    {
                        return $"{what}: cannot read {path}: {e.Message}";
                    }
                    break;
                case 4:
                    string variable = Encoding.UTF8.GetString(bytes);
                    text = Environment.GetEnvironmentVariable(variable);
                    if (text is null) return $"{what}: environment variable {variable} is not set";
                    break;
                default:
                    text = Encoding.UTF8.GetString(bytes);
                    break;
            }
        }
        return r.Error == ProtoError.None ? null : $"{what}: malformed protobuf ({r.Error})";
    }
}
