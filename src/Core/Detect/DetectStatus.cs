namespace Sidecar.Core.Detect;

/// <summary>Outcome of one <see cref="ProtocolDetector.Detect"/> call.</summary>
public enum DetectStatus : byte
{
    /// <summary>
    /// The bytes so far are a prefix of more than one protocol. The caller reads more and calls again;
    /// it also owns the timeout (Envoy <c>listener_filters_timeout</c>) and, when it fires, treats the
    /// connection as <see cref="DetectedProtocol.Opaque"/> ("raw_buffer", as
    /// <c>continue_on_listener_filters_timeout: true</c> does).
    /// </summary>
    NeedMoreData,

    /// <summary>The protocol is decided; more bytes would not change the answer.</summary>
    Detected,
}
