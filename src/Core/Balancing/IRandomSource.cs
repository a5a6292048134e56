namespace Sidecar.Core.Balancing;

/// <summary>
/// Random numbers for load balancing and weighted clusters, injectable so tests are deterministic.
/// Implementations must be thread-safe and must not allocate per call.
/// </summary>
public interface IRandomSource
{
    /// <summary>A value in [0, <paramref name="maxExclusive"/>); <paramref name="maxExclusive"/> &gt; 0.</summary>
    int Next(int maxExclusive);

    /// <summary>A value in [0, 1).</summary>
    double NextDouble();
}

/// <summary>The process-wide thread-safe <see cref="Random.Shared"/>.</summary>
public sealed class SharedRandomSource : IRandomSource
{
    public static readonly SharedRandomSource Instance = new();

    private SharedRandomSource()
    {
    }

    public int Next(int maxExclusive) => Random.Shared.Next(maxExclusive);

    public double NextDouble() => Random.Shared.NextDouble();
}
