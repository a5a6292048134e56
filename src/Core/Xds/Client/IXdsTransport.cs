namespace Sidecar.Core.Xds;

/// <summary>Which ADS method a stream uses.</summary>
public enum XdsProtocol : byte
{
    /// <summary>DeltaAggregatedResources, istiod's default for sidecars (bootstrap api_type DELTA_GRPC).</summary>
    Delta,
    /// <summary>StreamAggregatedResources (api_type GRPC).</summary>
    StateOfTheWorld,
}

/// <summary>Opens ADS streams; the client loop owns reconnects and backoff.</summary>
public interface IXdsTransport : IDisposable
{
    /// <summary>A new bidirectional stream; throws on connection or call-setup failure (the loop backs off).</summary>
    Task<IXdsStream> OpenAsync(XdsProtocol protocol, CancellationToken cancellationToken);
}

/// <summary>One ADS stream: serialized requests out, serialized responses in.</summary>
public interface IXdsStream : IAsyncDisposable
{
    Task WriteAsync(byte[] message, CancellationToken cancellationToken);

    /// <summary>The next response, or null when the server ended the stream cleanly.</summary>
    Task<byte[]?> ReadAsync(CancellationToken cancellationToken);
}
