using Microsoft.Extensions.Logging;

namespace Sidecar.Core.Identity;

internal static partial class IdentityLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "certificate source {Directory}: loaded serial {Serial} ({Identity}), valid until {NotAfter:u}")]
    public static partial void CertificateLoaded(ILogger logger, string directory, string serial, string identity, DateTimeOffset notAfter);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "certificate source {Directory}: new files rejected ({Reason}); keeping serial {KeptSerial}")]
    public static partial void CertificateRejected(ILogger logger, string directory, CertificateLoadError reason, string keptSerial);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "trust bundle {Source}: skipped {Skipped} malformed PEM block(s) or certificate(s), using {Roots} root(s)")]
    public static partial void TrustBundleSkipped(ILogger logger, string source, int skipped, int roots);
}
