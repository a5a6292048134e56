namespace Sidecar.Core.Xds;

/// <summary>How one response was handled.</summary>
public enum XdsResponseOutcome : byte
{
    /// <summary>Applied and ACKed.</summary>
    Accepted,
    /// <summary>NACKed with error_detail; the last good state stays.</summary>
    Rejected,
    /// <summary>The envelope was unreadable and had no nonce to NACK: the stream must be restarted.</summary>
    ResetStream,
}

/// <summary>The result of one response: the requests to send (ACK/NACK first, then subscription changes).</summary>
public sealed class XdsStep<TRequest>
{
    public List<TRequest> Requests { get; } = [];
    public XdsResponseOutcome Outcome { get; set; }
    public string TypeUrl { get; set; } = "";
    public string Nonce { get; set; } = "";
    public string VersionInfo { get; set; } = "";
    public string? Error { get; set; }
    public bool Published { get; set; }
    public int ResourceCount { get; set; }
}
