using Sidecar.Core.Balancing;

namespace Sidecar.Core.Tests.Support;

/// <summary>Deterministic <see cref="IRandomSource"/> for single-threaded tests.</summary>
public sealed class SeededRandom(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);

    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    public double NextDouble() => _random.NextDouble();
}

/// <summary>Replays a fixed sequence of values (reduced modulo the bound), for exact LB assertions.</summary>
public sealed class SequenceRandom(params int[] values) : IRandomSource
{
    private int _next;

    public int Next(int maxExclusive) => values[_next++ % values.Length] % maxExclusive;

    public double NextDouble() => values[_next++ % values.Length] / 1000.0 % 1.0;
}
