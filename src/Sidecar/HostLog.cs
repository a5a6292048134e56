using Microsoft.Extensions.Logging;

namespace Sidecar;

internal static partial class HostLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "workload certificate from the Istio CA at {Address}: {Identity}, serial {Serial}")]
    public static partial void CaCertificate(ILogger logger, string address, Sidecar.Core.Identity.SpiffeId identity, string serial);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "no certificate from the Istio CA at {Address} after {Seconds} s; serving, mTLS handshakes fail until one arrives")]
    public static partial void CaSlow(ILogger logger, string address, double seconds);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "xDS: applied version {Generation}: {Listeners} listener(s), {Clusters} cluster(s)")]
    public static partial void XdsApplied(ILogger logger, long generation, int listeners, int clusters);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "xDS: rejected: {Reason}")]
    public static partial void XdsRejected(ILogger logger, string reason);
}
