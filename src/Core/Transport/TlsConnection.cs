using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Sidecar.Core.Tls;

namespace Sidecar.Core.Transport;

/// <summary>
/// A connection after a TLS handshake: the same connection (features, endpoints, abort) with <see cref="Transport"/>
/// replaced by pipes over the <see cref="MeshTlsStream"/>, so HTTP/1.1, HTTP/2 and tcp_proxy sessions run unchanged
/// on top. <see cref="CloseAsync"/> ends the TLS layer only; the plaintext connection underneath is closed by its owner.
/// </summary>
public sealed class TlsConnection : ConnectionContext
{
    /// <summary>Large enough for one full TLS record (16 KiB of plaintext) per read.</summary>
    private const int PlaintextBufferSize = 16 * 1024;

    private readonly ConnectionContext _inner;
    private int _closed;

    internal TlsConnection(ConnectionContext inner, MeshTlsStream stream)
    {
        _inner = inner;
        Stream = stream;
        Transport = new DuplexPipe(
            PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: PlaintextBufferSize, minimumReadSize: 2048, leaveOpen: true)),
            // Segments of one full record: SslStream makes one TLS record per write (up to 16 KiB), so 4 KiB segments
            // would quadruple the records and the socket writes of a bulk transfer.
            PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: PlaintextBufferSize, leaveOpen: true)));
    }

    /// <summary>The authenticated stream: peer identity, negotiated ALPN, our certificate's serial.</summary>
    public MeshTlsStream Stream { get; }

    /// <summary>The plaintext (socket) connection underneath.</summary>
    public ConnectionContext Inner => _inner;

    public override IDuplexPipe Transport { get; set; }
    public override string ConnectionId { get => _inner.ConnectionId; set => _inner.ConnectionId = value; }
    public override IFeatureCollection Features => _inner.Features;
    public override IDictionary<object, object?> Items { get => _inner.Items; set => _inner.Items = value; }
    public override EndPoint? LocalEndPoint { get => _inner.LocalEndPoint; set => _inner.LocalEndPoint = value; }
    public override EndPoint? RemoteEndPoint { get => _inner.RemoteEndPoint; set => _inner.RemoteEndPoint = value; }
    public override CancellationToken ConnectionClosed { get => _inner.ConnectionClosed; set => _inner.ConnectionClosed = value; }

    public override void Abort(ConnectionAbortedException abortReason) => _inner.Abort(abortReason);

    /// <summary>Sends close_notify (best effort) and releases the TLS layer, once.</summary>
    public async ValueTask CloseAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        try
        {
            await Transport.Input.CompleteAsync().ConfigureAwait(false);
            await Transport.Output.CompleteAsync().ConfigureAwait(false);
            await Stream.ShutdownAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException or ConnectionResetException or NotSupportedException)
        {
            // The peer is gone or a write was still pending; there is nothing left to say to it.
        }
        await Stream.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Closes the TLS layer and then the connection underneath (for upstream connections we own whole).</summary>
    public override async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
