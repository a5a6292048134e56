namespace Sidecar.Core.Xds;

/// <summary>
/// Reconnect delays as Envoy's JitteredExponentialBackOffStrategy for gRPC streams: the ceiling doubles
/// from <see cref="BaseDelay"/> (500 ms) up to <see cref="MaxDelay"/> (30 s) and each delay is drawn
/// uniformly below it ("full jitter"), so many proxies restarted together do not reconnect in lockstep.
/// Reset after a stream that got at least one response.
/// </summary>
public sealed class XdsBackoff(TimeSpan? baseDelay = null, TimeSpan? maxDelay = null, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;
    private int _attempt;

    public TimeSpan BaseDelay { get; } = baseDelay ?? TimeSpan.FromMilliseconds(500);
    public TimeSpan MaxDelay { get; } = maxDelay ?? TimeSpan.FromSeconds(30);
    public int Attempt => _attempt;

    public TimeSpan Next()
    {
        double ceiling = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(_attempt, 30)));
        _attempt++;
        return TimeSpan.FromMilliseconds(_random.NextDouble() * ceiling);
    }

    public void Reset() => _attempt = 0;
}
