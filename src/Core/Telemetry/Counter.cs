namespace Sidecar.Core.Telemetry;

/// <summary>A monotonically increasing statistic (Envoy "counter"). Incremented with one interlocked add.</summary>
public sealed class Counter(string name)
{
    private long _value;
    public string Name { get; } = name;
    public long Value => Volatile.Read(ref _value);
    public void Increment() => Interlocked.Increment(ref _value);
    public void Add(long n) => Interlocked.Add(ref _value, n);
}

/// <summary>A value that goes up and down (Envoy "gauge"), e.g. active connections.</summary>
public sealed class Gauge(string name)
{
    private long _value;
    public string Name { get; } = name;
    public long Value => Volatile.Read(ref _value);
    public void Increment() => Interlocked.Increment(ref _value);
    public void Decrement() => Interlocked.Decrement(ref _value);
    public void Set(long v) => Volatile.Write(ref _value, v);
}
