using Microsoft.Extensions.Logging;

namespace Sidecar.Core.Tls;

internal static partial class TlsLog
{
    [LoggerMessage(EventId = 5201, Level = LogLevel.Warning, Message = "{Side} {Name}: TLS handshake with {Peer} refused: {Reason} (further {Reason} refusals here are only counted in {Stat})")]
    public static partial void Refused(ILogger logger, string side, string name, string peer, TlsPeerFailure reason, string stat);
}
