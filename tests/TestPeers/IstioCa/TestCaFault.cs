namespace Sidecar.TestPeers.IstioCa;

/// <summary>How the test CA misbehaves for the next calls (see <see cref="TestIstioCa.FailNext"/>).</summary>
public enum TestCaFault
{
    /// <summary>gRPC status UNAVAILABLE (14), no message: "CA down".</summary>
    Unavailable,
    /// <summary>gRPC status OK with a body that is not a valid IstioCertificateResponse.</summary>
    Garbage,
    /// <summary>A valid certificate, but for <c>spiffe://cluster.local/ns/other/sa/intruder</c> instead of the CSR's identity.</summary>
    WrongIdentity,
    /// <summary>A certificate for the right identity signed by a CA the client's root file does not hold.</summary>
    UntrustedChain,
    /// <summary>Only the leaf in cert_chain (no root).</summary>
    LeafOnly,
    /// <summary>A certificate for a different key than the CSR's.</summary>
    OtherKey,
}
