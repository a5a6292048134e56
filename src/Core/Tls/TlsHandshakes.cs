using System.Security.Authentication;

namespace Sidecar.Core.Tls;

/// <summary>The failure contract shared by both sides: never throw for a refused peer, return why instead.</summary>
internal static class TlsHandshakes
{
    public static async ValueTask<TlsHandshakeResult> RunAsync(MeshTlsStream stream, Task handshake)
    {
        try
        {
            await handshake.ConfigureAwait(false);
            return stream.PeerFailure == TlsPeerFailure.None
                ? new TlsHandshakeResult(stream, TlsPeerFailure.None)
                : await FailAsync(stream, stream.PeerFailure).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return await FailAsync(stream, TlsPeerFailure.Timeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Our own callback's verdict is the precise reason; otherwise the handshake broke (garbage, plaintext, reset).
            var reason = stream.PeerFailure != TlsPeerFailure.None ? stream.PeerFailure : TlsPeerFailure.HandshakeFailed;
            return await FailAsync(stream, reason).ConfigureAwait(false);
        }
    }

    private static async ValueTask<TlsHandshakeResult> FailAsync(MeshTlsStream stream, TlsPeerFailure reason)
    {
        await stream.DisposeAsync().ConfigureAwait(false);
        return new TlsHandshakeResult(null, reason);
    }
}
