namespace Sidecar.Core.Identity;

/// <summary>Why a certificate chain is not an X.509-SVID (SPIFFE X509-SVID spec). A value, not an exception.</summary>
public enum X509SvidError
{
    None = 0,
    /// <summary>No certificate at all.</summary>
    NoCertificate,
    /// <summary>The subjectAltName extension is not valid DER.</summary>
    MalformedSubjectAltName,
    /// <summary>§2: the leaf has no URI SAN.</summary>
    NoUriSan,
    /// <summary>§2: an SVID carries exactly one URI SAN; this leaf has more.</summary>
    MultipleUriSans,
    /// <summary>§2: the URI SAN is not a valid SPIFFE ID (see <see cref="SpiffeIdError"/>).</summary>
    InvalidSpiffeId,
    /// <summary>§4.1: the leaf has basicConstraints cA=true.</summary>
    LeafIsCa,
    /// <summary>§4.3: the leaf lacks the digitalSignature key usage (or has no key usage extension).</summary>
    LeafMissingDigitalSignature,
    /// <summary>§4.3: the leaf has keyCertSign.</summary>
    LeafHasKeyCertSign,
    /// <summary>§4.3: the leaf has cRLSign.</summary>
    LeafHasCrlSign,
    /// <summary>§4.1: a signing (non-leaf) certificate lacks cA=true.</summary>
    SigningCertNotCa,
    /// <summary>§4.3: a signing certificate lacks keyCertSign.</summary>
    SigningCertMissingKeyCertSign,
}
