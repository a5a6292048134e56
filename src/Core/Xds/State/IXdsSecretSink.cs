namespace Sidecar.Core.Xds;

/// <summary>
/// Where SDS secrets received over ADS go (the TLS layer's certificate sources), beside the config translator:
/// a secret is checked alone like any resource, and a new version reaches the next handshakes without the listeners
/// and clusters that use it being translated or bound again.
/// </summary>
public interface IXdsSecretSink
{
    /// <summary>One new or changed secret, alone: null to accept, else the NACK reason (garbage PEM, key mismatch…).</summary>
    string? Check(XdsResource secret);

    /// <summary>
    /// Makes exactly these secrets the ones served (each already accepted by <see cref="Check"/>); names not in the set
    /// serve nothing any more.
    /// </summary>
    void Apply(IReadOnlyDictionary<string, XdsResource> secrets);
}
