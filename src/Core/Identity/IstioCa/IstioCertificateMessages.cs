using Sidecar.Core.Protobuf;

namespace Sidecar.Core.Identity.IstioCa;

/// <summary>
/// The two messages of <c>istio.v1.auth.IstioCertificateService</c> (istio/api <c>security/v1alpha1/ca.proto</c>):
/// <code>
/// IstioCertificateRequest  { string csr = 1; int64 validity_duration = 3; google.protobuf.Struct metadata = 4; }
/// IstioCertificateResponse { repeated string cert_chain = 1; }   // PEM, leaf first, root last
/// </code>
/// Field 2 (<c>subject_id</c>) exists in older copies and is never sent by pilot-agent.
/// </summary>
public static class IstioCertificateMessages
{
    public const string Service = "istio.v1.auth.IstioCertificateService";
    public const string Method = "CreateCertificate";

    private const int CsrField = 1;
    private const int ValidityDurationField = 3;
    private const int MetadataField = 4;
    private const int CertChainField = 1;

    // google/protobuf/struct.proto: Struct { map<string, Value> fields = 1; } — a map is repeated entries {key = 1, value = 2};
    // Value { oneof kind { ... string string_value = 3; ... } }.
    private const int StructFieldsField = 1;
    private const int MapKeyField = 1;
    private const int MapValueField = 2;
    private const int ValueStringField = 3;

    /// <summary>Metadata key pilot-agent uses to ask for a specific signer (<c>ISTIO_META_CERT_SIGNER</c>).</summary>
    public const string CertSignerKey = "CertSigner";

    /// <param name="csrPem">PEM-encoded PKCS#10 request.</param>
    /// <param name="validitySeconds">Requested lifetime (<c>SECRET_TTL</c>); the CA may shorten it.</param>
    /// <param name="certSigner">Optional <c>CertSigner</c> metadata value; omitted when null or empty.</param>
    public static byte[] EncodeRequest(string csrPem, long validitySeconds, string? certSigner)
    {
        var writer = new ProtoWriter(csrPem.Length + 64);
        writer.WriteString(CsrField, csrPem);
        if (validitySeconds != 0) writer.WriteInt64(ValidityDurationField, validitySeconds);
        if (!string.IsNullOrEmpty(certSigner))
        {
            var metadata = writer.BeginMessage(MetadataField);
            var entry = writer.BeginMessage(StructFieldsField);
            writer.WriteString(MapKeyField, CertSignerKey);
            var value = writer.BeginMessage(MapValueField);
            writer.WriteString(ValueStringField, certSigner);
            writer.EndMessage(value);
            writer.EndMessage(entry);
            writer.EndMessage(metadata);
        }
        return writer.ToArray();
    }

    /// <summary>Reads <c>cert_chain</c>; unknown fields are skipped (forward compatibility), a wrong wire type is an error.</summary>
    public static ProtoError TryDecodeResponse(ReadOnlySpan<byte> message, out List<string> certChain)
    {
        certChain = [];
        var reader = new ProtoReader(message);
        while (reader.TryReadTag(out var field, out var type))
        {
            if (field == CertChainField)
            {
                if (type != WireType.LengthDelimited) return ProtoError.BadWireType;
                if (!reader.TryReadString(out var pem)) break;
                certChain.Add(pem);
            }
            else if (!reader.TrySkip(type))
            {
                break;
            }
        }
        return reader.Error;
    }
}
