using System.Net.Security;

namespace Sidecar.Core.Tls;

/// <summary>
/// ALPN protocol IDs used in an Istio mesh. The <c>istio-*</c> IDs tell an inbound sidecar that the peer is a mesh proxy
/// (PERMISSIVE filter chains match on them); <c>istio-peer-exchange</c> carries TCP metadata exchange.
/// </summary>
public static class IstioAlpn
{
    public static readonly SslApplicationProtocol PeerExchange = new("istio-peer-exchange"u8.ToArray());
    public static readonly SslApplicationProtocol Istio = new("istio"u8.ToArray());
    public static readonly SslApplicationProtocol IstioHttp10 = new("istio-http/1.0"u8.ToArray());
    public static readonly SslApplicationProtocol IstioHttp11 = new("istio-http/1.1"u8.ToArray());
    public static readonly SslApplicationProtocol IstioH2 = new("istio-h2"u8.ToArray());

    /// <summary>What an inbound mesh listener accepts, in server preference order.</summary>
    public static IReadOnlyList<SslApplicationProtocol> InboundMesh { get; } =
        [PeerExchange, Istio, IstioH2, IstioHttp11, IstioHttp10, SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];

    /// <summary>What an outbound sidecar offers to a mesh peer for HTTP/1.1 traffic.</summary>
    public static IReadOnlyList<SslApplicationProtocol> OutboundHttp11 { get; } = [IstioHttp11, SslApplicationProtocol.Http11];

    /// <summary>What an outbound sidecar offers to a mesh peer for HTTP/2 traffic.</summary>
    public static IReadOnlyList<SslApplicationProtocol> OutboundH2 { get; } = [IstioH2, SslApplicationProtocol.Http2];

    /// <summary>What an outbound sidecar offers to a mesh peer for TCP traffic (metadata exchange, then plain istio).</summary>
    public static IReadOnlyList<SslApplicationProtocol> OutboundTcp { get; } = [PeerExchange, Istio];
}
