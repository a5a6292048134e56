using System.Net.Security;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Tls;

/// <summary>
/// An SslStream that remembers what our certificate check concluded. The validation callback receives the stream as
/// its sender, so the outcome is stored on the stream itself: the options objects stay shared across handshakes
/// (no per-handshake closure) and the caller still learns the exact refusal reason.
/// </summary>
public sealed class MeshTlsStream : SslStream
{
    internal MeshTlsStream(Stream innerStream, bool leaveInnerStreamOpen)
        : base(innerStream, leaveInnerStreamOpen)
    {
    }

    /// <summary>Why the peer was refused, or None.</summary>
    public TlsPeerFailure PeerFailure { get; internal set; }

    /// <summary>The peer's SPIFFE ID, or the default value when it presented none (or no certificate).</summary>
    public SpiffeId PeerId { get; internal set; }

    /// <summary>Serial of the certificate we presented in this handshake (to observe rotation).</summary>
    public string? LocalSerial { get; internal set; }
}

/// <summary>The outcome of one handshake: an authenticated stream, or the reason there is none.</summary>
public readonly record struct TlsHandshakeResult(MeshTlsStream? Stream, TlsPeerFailure Failure)
{
    public bool Succeeded => Failure == TlsPeerFailure.None && Stream is not null;
}
