using Microsoft.Extensions.Logging;

namespace Sidecar.Core.Xds;

/// <summary>xDS client log events (ids 6000+).</summary>
internal static partial class XdsLog
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "xds: {Protocol} stream to {Target} opened")]
    public static partial void StreamOpened(ILogger logger, XdsProtocol protocol, string target);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "xds: stream to {Target} ended: {Reason}; retrying in {DelayMs} ms (attempt {Attempt})")]
    public static partial void StreamFailed(ILogger logger, string target, string reason, long delayMs, int attempt);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Debug, Message = "xds: {Type} version {Version} nonce {Nonce}: {Count} resource(s) accepted")]
    public static partial void Accepted(ILogger logger, string type, string version, string nonce, int count);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "xds: {Type} nonce {Nonce} rejected (NACK): {Reason}")]
    public static partial void Rejected(ILogger logger, string type, string nonce, string reason);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Information, Message = "xds: published snapshot {Generation}: {Listeners} listener(s), {Routes} route config(s), {Clusters} cluster(s), {Endpoints} endpoint set(s)")]
    public static partial void Published(ILogger logger, long generation, int listeners, int routes, int clusters, int endpoints);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Warning, Message = "xds: warming timed out; published without route config(s) [{Routes}] and endpoints [{Endpoints}]")]
    public static partial void WarmingTimedOut(ILogger logger, string routes, string endpoints);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Warning, Message = "xds: unreadable response without a nonce ({Reason}); restarting the stream")]
    public static partial void Unreadable(ILogger logger, string reason);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Warning, Message = "xds: warming timed out and the translator refused the set: {Reason}; the last good snapshot keeps serving")]
    public static partial void TimeoutPublishRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Information, Message = "xds: client stopped")]
    public static partial void Stopped(ILogger logger);
}
