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

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "accepted but NOT enforced ({Count} new): {Notes}")]
    public static partial void NotEnforced(ILogger logger, int count, string notes);
}

/// <summary>
/// Says once which accepted config parts are not acted on (telemetry filters, outlier detection, …): istiod sends
/// them routinely and refusing them would refuse the mesh, but nobody may think they are enforced.
/// </summary>
internal sealed class NotEnforcedLog(Microsoft.Extensions.Logging.ILogger logger)
{
    private readonly HashSet<string> _said = new(StringComparer.Ordinal);

    public void Report(Sidecar.Core.Config.Model.BootstrapModel model)
    {
        var fresh = new List<string>();
        lock (_said)
        {
            foreach (var l in model.Listeners)
                foreach (string note in l.NotEnforced)
                    if (_said.Add(note)) fresh.Add($"listener {l.Name}: {note}");
            foreach (var c in model.Clusters.Values)
                foreach (string note in c.NotEnforced)
                    if (_said.Add(note)) fresh.Add($"cluster {c.Name}: {note}");
        }
        if (fresh.Count > 0) HostLog.NotEnforced(logger, fresh.Count, string.Join("; ", fresh.Take(20)));
    }
}
