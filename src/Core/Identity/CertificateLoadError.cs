namespace Sidecar.Core.Identity;

/// <summary>Why a certificate chain + key + root set was refused. A refused set never replaces the current certificate.</summary>
public enum CertificateLoadError
{
    None = 0,
    /// <summary>A file could not be read (missing, permissions).</summary>
    FileUnreadable,
    /// <summary>The chain file has no PEM block at all.</summary>
    ChainNotPem,
    /// <summary>The chain file has no CERTIFICATE block.</summary>
    ChainMissing,
    /// <summary>A CERTIFICATE block of the chain is malformed PEM or not a certificate.</summary>
    ChainUnparsable,
    /// <summary>The key file has no PEM block at all.</summary>
    KeyNotPem,
    /// <summary>The key file has no private-key block.</summary>
    KeyMissing,
    /// <summary>The private key block does not decode.</summary>
    KeyUnparsable,
    /// <summary>The certificate's key type is neither RSA nor ECDSA.</summary>
    KeyUnsupported,
    /// <summary>The private key does not belong to the leaf certificate.</summary>
    KeyMismatch,
    /// <summary>The leaf's notAfter has passed.</summary>
    Expired,
    /// <summary>The leaf's notBefore is in the future.</summary>
    NotYetValid,
    /// <summary>The root file holds no usable root (see <see cref="TrustBundleError"/>).</summary>
    RootInvalid,
}
