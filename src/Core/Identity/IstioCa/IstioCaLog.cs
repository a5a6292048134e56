using Microsoft.Extensions.Logging;

namespace Sidecar.Core.Identity.IstioCa;

internal static partial class IstioCaLog
{
    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "istio CA {Address}: issued serial {Serial} ({Identity}), valid {NotBefore:u} .. {NotAfter:u}, next rotation at {RotateAt:u}")]
    public static partial void CertificateIssued(ILogger logger, string address, string serial, SpiffeId identity, DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset rotateAt);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "istio CA {Address}: no certificate ({Error}: {Detail}); keeping serial {KeptSerial}, retrying with backoff")]
    public static partial void FetchFailed(ILogger logger, string address, IstioCaError error, string detail, string keptSerial);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Error, Message = "istio CA: a certificate Changed handler threw")]
    public static partial void ChangedHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Warning, Message = "istio CA {Address}: the certificate in service (serial {Serial}) expired at {NotAfter:u} and no new one could be fetched")]
    public static partial void CertificateExpired(ILogger logger, string address, string serial, DateTimeOffset notAfter);
}
