namespace Sidecar.Core.Detect;

/// <summary>
/// What filter chain matching needs from a ClientHello. Filled by <see cref="ClientHelloParser.TryParse"/>
/// only when it returns <see cref="ClientHelloStatus.Ok"/>; otherwise left at its default.
/// </summary>
/// <remarks>
/// Allocation: on <see cref="ClientHelloStatus.Ok"/> the parser allocates one string for the server name
/// (if present) and one array for the ALPN list (if present and non-empty). Well-known protocol names
/// ("h2", "http/1.1", "istio", "istio-peer-exchange", …) reuse static string instances; others allocate
/// one string each. Nothing is allocated for any other status.
/// </remarks>
public struct ClientHelloInfo
{
    private string[]? _applicationProtocols;

    /// <summary>
    /// The SNI host_name (RFC 6066 §3), ASCII lower-cased because DNS names compare case-insensitively
    /// (RFC 4343); null when the client sent no server_name extension.
    /// </summary>
    public string? ServerName { readonly get; internal set; }

    /// <summary>
    /// The ALPN ProtocolNameList (RFC 7301 §3.1) in the client's preference order; empty when the client
    /// sent no application_layer_protocol_negotiation extension. Bytes map 1:1 to chars (Latin-1).
    /// </summary>
    public string[] ApplicationProtocols
    {
        readonly get => _applicationProtocols ?? [];
        internal set => _applicationProtocols = value;
    }

    /// <summary>Length of the ClientHello handshake message (header included) that was parsed.</summary>
    public int ClientHelloLength { readonly get; internal set; }
}
