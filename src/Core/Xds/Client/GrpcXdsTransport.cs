using Grpc.Core;
using Sidecar.Core.Grpc;

namespace Sidecar.Core.Xds;

/// <summary>Why an ADS stream could not be set up before anything was sent.</summary>
public sealed class XdsTransportException(string message) : Exception(message);

/// <summary>
/// ADS over gRPC (envoy.service.discovery.v3.AggregatedDiscoveryService) on a <see cref="GrpcConnection"/>:
/// TLS to istiod:15012 against the mesh roots with SAN istiod.istio-system.svc (or ISTIOD_SAN), or h2c on
/// 15010; Bearer token and ClusterID header on every stream; keepalive pings on the connection.
/// </summary>
public sealed class GrpcXdsTransport(GrpcConnection connection) : IXdsTransport
{
    private const string Service = "envoy.service.discovery.v3.AggregatedDiscoveryService";
    private static readonly Method<byte[], byte[]> Sotw = GrpcBytes.DuplexStreaming(Service, "StreamAggregatedResources");
    private static readonly Method<byte[], byte[]> Delta = GrpcBytes.DuplexStreaming(Service, "DeltaAggregatedResources");

    public GrpcConnection Connection => connection;

    public Task<IXdsStream> OpenAsync(XdsProtocol protocol, CancellationToken cancellationToken)
    {
        GrpcCallSetupError setup = connection.TryCreateCallOptions(deadline: null, cancellationToken, out CallOptions options);
        if (setup != GrpcCallSetupError.None)
            throw new XdsTransportException($"cannot open ADS stream: {setup} ({connection.Options.TokenFile})");
        var call = connection.Invoker.AsyncDuplexStreamingCall(protocol == XdsProtocol.Delta ? Delta : Sotw, null, options);
        return Task.FromResult<IXdsStream>(new Stream(call));
    }

    public void Dispose() => connection.Dispose();

    private sealed class Stream(AsyncDuplexStreamingCall<byte[], byte[]> call) : IXdsStream
    {
        public Task WriteAsync(byte[] message, CancellationToken cancellationToken) =>
            call.RequestStream.WriteAsync(message, cancellationToken);

        public async Task<byte[]?> ReadAsync(CancellationToken cancellationToken) =>
            await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false) ? call.ResponseStream.Current : null;

        public async ValueTask DisposeAsync()
        {
            try
            {
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or InvalidOperationException or IOException or OperationCanceledException)
            {
                // The stream is already broken or finished; disposing below cancels whatever is left.
            }
            call.Dispose();
        }
    }
}
