namespace Sidecar.Core.Identity.IstioCa;

/// <summary>The workload key type pilot-agent generates: RSA 2048 unless <c>ECC_SIGNATURE_ALGORITHM=ECDSA</c> (then P-256).</summary>
public enum WorkloadKeyAlgorithm
{
    Rsa2048,
    EcdsaP256,
}
