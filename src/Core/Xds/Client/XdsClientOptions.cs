namespace Sidecar.Core.Xds;

/// <summary>How the ADS client runs; defaults are istio-agent's and Envoy's.</summary>
public sealed class XdsClientOptions
{
    /// <summary>Delta, as istiod's default for sidecars (ISTIO_DELTA_XDS=true).</summary>
    public XdsProtocol Protocol { get; init; } = XdsProtocol.Delta;

    /// <summary>Envoy's default initial_fetch_timeout for RDS/EDS: publish a still-cold set after this.</summary>
    public TimeSpan WarmingTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the loop checks warming deadlines while the stream is quiet.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>For logs only, e.g. "istiod.istio-system.svc:15012".</summary>
    public string TargetDescription { get; init; } = "istiod";
}
