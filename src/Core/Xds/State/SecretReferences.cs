using Sidecar.Core.Protobuf;
using Sidecar.Core.Xds.Secrets;

namespace Sidecar.Core.Xds;

/// <summary>
/// Finds the SDS secret names a Listener or Cluster references through its TLS transport sockets, reading only the
/// fields on the way. Only the names istiod serves over ADS are kept (<see cref="SdsSecretNames.IsServedOverAds"/>):
/// <c>default</c>/<c>ROOTCA</c> and the <c>file-*</c> names are resolved in-process, as istio-agent does for Envoy.
/// Field numbers: envoy/config/listener/v3/listener.proto (Listener filter_chains=3, default_filter_chain=25),
/// listener_components.proto (FilterChain transport_socket=6), envoy/config/cluster/v3/cluster.proto (Cluster
/// transport_socket=24, transport_socket_matches=43; TransportSocketMatch transport_socket=3),
/// envoy/config/core/v3/base.proto (TransportSocket typed_config=3), google/protobuf/any.proto (type_url=1 value=2),
/// envoy/extensions/transport_sockets/tls/v3/tls.proto (Downstream/UpstreamTlsContext common_tls_context=1;
/// CommonTlsContext tls_certificate_sds_secret_configs=6, validation_context_sds_secret_config=7,
/// combined_validation_context=8; CombinedCertificateValidationContext validation_context_sds_secret_config=2),
/// secret.proto (SdsSecretConfig name=1).
/// </summary>
public static class SecretReferences
{
    private const string DownstreamTlsContextType = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
    private const string UpstreamTlsContextType = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";

    /// <summary>The ADS-served secret names of a Listener's filter chains (and default chain), added to <paramref name="names"/>.</summary>
    public static ProtoError Listener(ReadOnlySpan<byte> listener, List<string> names) =>
        ProtoWalk.ForEach(listener, 3, 25, FilterChain, names);

    /// <summary>The ADS-served secret names of a Cluster's transport socket and transport socket matches.</summary>
    public static ProtoError Cluster(ReadOnlySpan<byte> cluster, List<string> names)
    {
        ProtoError error = ProtoWalk.ForEach(cluster, 24, 24, TransportSocket, names);
        return error != ProtoError.None ? error : ProtoWalk.ForEach(cluster, 43, 43, SocketMatch, names);
    }

    private static ProtoError FilterChain(ReadOnlySpan<byte> chain, List<string> names) => ProtoWalk.ForEach(chain, 6, 6, TransportSocket, names);

    private static ProtoError SocketMatch(ReadOnlySpan<byte> match, List<string> names) => ProtoWalk.ForEach(match, 3, 3, TransportSocket, names);

    private static ProtoError TransportSocket(ReadOnlySpan<byte> socket, List<string> names) => ProtoWalk.ForEach(socket, 3, 3, TlsContextAny, names);

    private static ProtoError TlsContextAny(ReadOnlySpan<byte> any, List<string> names)
    {
        ProtoError error = ProtoWalk.Any(any, out string typeUrl, out ReadOnlySpan<byte> value);
        if (error != ProtoError.None || typeUrl is not (DownstreamTlsContextType or UpstreamTlsContextType)) return error;
        // Both contexts carry common_tls_context as field 1.
        return ProtoWalk.ForEach(value, 1, 1, CommonTlsContext, names);
    }

    private static ProtoError CommonTlsContext(ReadOnlySpan<byte> common, List<string> names)
    {
        ProtoError error = ProtoWalk.ForEach(common, 6, 7, SdsName, names);
        return error != ProtoError.None ? error : ProtoWalk.ForEach(common, 8, 8, CombinedValidation, names);
    }

    private static ProtoError CombinedValidation(ReadOnlySpan<byte> combined, List<string> names) => ProtoWalk.ForEach(combined, 2, 2, SdsName, names);

    private static ProtoError SdsName(ReadOnlySpan<byte> config, List<string> names)
    {
        var r = new ProtoReader(config);
        while (r.TryReadTag(out int field, out WireType type))
        {
            if (field == 1 && type == WireType.LengthDelimited)
            {
                if (!r.TryReadString(out string name)) return r.Error;
                if (SdsSecretNames.IsServedOverAds(name) && !names.Contains(name)) names.Add(name);
            }
            else if (!r.TrySkip(type)) return r.Error;
        }
        return r.Error;
    }
}
