using Grpc.Core;

namespace Sidecar.Core.Grpc;

/// <summary>
/// gRPC methods whose messages are raw protobuf bytes: the codecs are ours (<c>Sidecar.Core.Protobuf</c>), so the
/// transport only moves byte arrays and no generated code or reflection is involved.
/// </summary>
public static class GrpcBytes
{
    public static readonly Marshaller<byte[]> Marshaller = Marshallers.Create(static bytes => bytes, static bytes => bytes);

    /// <param name="service">Fully qualified service, e.g. <c>istio.v1.auth.IstioCertificateService</c>.</param>
    public static Method<byte[], byte[]> Unary(string service, string method) =>
        new(MethodType.Unary, service, method, Marshaller, Marshaller);

    public static Method<byte[], byte[]> DuplexStreaming(string service, string method) =>
        new(MethodType.DuplexStreaming, service, method, Marshaller, Marshaller);
}
