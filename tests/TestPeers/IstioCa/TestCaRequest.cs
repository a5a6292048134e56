namespace Sidecar.TestPeers.IstioCa;

/// <summary>What one CreateCertificate call carried, as the test CA saw it.</summary>
/// <param name="Authorization">The <c>authorization</c> header, or null.</param>
/// <param name="ClusterId">The <c>ClusterID</c> header, or null.</param>
/// <param name="CsrUris">URI SANs requested in the CSR.</param>
/// <param name="CsrKeyAlgorithmOid">The CSR public key's algorithm OID (1.2.840.113549.1.1.1 RSA, 1.2.840.10045.2.1 EC).</param>
/// <param name="CsrKeySize">RSA modulus bits or EC field bits.</param>
/// <param name="ValiditySeconds">The requested <c>validity_duration</c>.</param>
/// <param name="CertSigner">The <c>metadata.CertSigner</c> string, or null.</param>
/// <param name="ClientCertificateSubject">Subject of the TLS client certificate presented, or null.</param>
/// <param name="IssuedSerial">Serial of the certificate returned, or null when the call was failed on purpose.</param>
public sealed record TestCaRequest(
    string? Authorization,
    string? ClusterId,
    IReadOnlyList<string> CsrUris,
    string CsrKeyAlgorithmOid,
    int CsrKeySize,
    long ValiditySeconds,
    string? CertSigner,
    string? ClientCertificateSubject,
    string? IssuedSerial);
