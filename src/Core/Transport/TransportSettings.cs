namespace Sidecar.Core.Transport;

/// <summary>
/// Scheduling choices for the socket transport. With inline scheduling the code that parses and
/// forwards runs on the thread that completed the socket operation, so a request is never handed
/// to another core between receive and send (see bench/ for the measurement behind the default).
/// </summary>
public sealed class TransportSettings
{
    /// <summary>
    /// Which socket transport carries connections. Our own by default (fewer syscalls, 32 KiB reads: see
    /// docs/ARCHITECTURE.md, Transport); SIDECAR_TRANSPORT=kestrel selects Kestrel's socket transport.
    /// </summary>
    public TransportKind Kind { get; init; } = TransportKind.Epoll;
    public bool InlineScheduling { get; init; } = true;
    /// <summary>Kestrel's IOQueueCount; 0 uses one queue per core.</summary>
    public int IoQueueCount { get; init; }
    /// <summary>Pipe pause threshold per direction: bounds memory per connection (Envoy's per_connection_buffer_limit_bytes).</summary>
    public long MaxBufferBytes { get; init; } = 1024 * 1024;
    /// <summary>
    /// Kestrel's WaitForDataBeforeAllocatingBuffer: a zero-byte receive before each real one keeps idle
    /// connections buffer-free, at the price of one extra syscall per read.
    /// </summary>
    public bool WaitForDataBeforeAllocatingBuffer { get; init; } = true;
    /// <summary>
    /// SO_MARK for upstream sockets (0 = none). With traffic capture, the proxy's own connections carry
    /// this mark so the nft rule "meta mark 0x539 return" keeps them from being redirected back to us.
    /// </summary>
    public uint UpstreamMark { get; init; }

    /// <summary>Number of event loops of our transport (<c>--concurrency</c>); effective before the first socket opens.</summary>
    public static void ConfigureEventLoops(int count) => Sockets.EpollLoopGroup.Configure(count);

    public static TransportSettings FromEnvironment()
    {
        string? inline = Environment.GetEnvironmentVariable("SIDECAR_INLINE_SCHEDULING");
        string? queues = Environment.GetEnvironmentVariable("SIDECAR_IO_QUEUES");
        return new TransportSettings
        {
            Kind = string.Equals(Environment.GetEnvironmentVariable("SIDECAR_TRANSPORT"), "kestrel", StringComparison.OrdinalIgnoreCase) ? TransportKind.Kestrel : TransportKind.Epoll,
            InlineScheduling = inline is null || inline != "0",
            IoQueueCount = int.TryParse(queues, out int q) ? q : 0,
            UpstreamMark = ParseMark(Environment.GetEnvironmentVariable("SIDECAR_UPSTREAM_MARK")),
            WaitForDataBeforeAllocatingBuffer = Environment.GetEnvironmentVariable("SIDECAR_WAIT_FOR_DATA") != "0",
        };
    }

    /// <summary>Pipe options of our transport for these settings, built once per settings object.</summary>
    internal Sockets.TransportPipeOptions PipeOptions => _pipeOptions ??= new Sockets.TransportPipeOptions(Sockets.BlockMemoryPool.Shared, MaxBufferBytes, InlineScheduling);
    private Sockets.TransportPipeOptions? _pipeOptions;

    private static uint ParseMark(string? text)
    {
        if (string.IsNullOrEmpty(text)) return 0;
        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.Parse(text.AsSpan(2), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture)
            : uint.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>The socket transport under every listener and upstream connection.</summary>
public enum TransportKind : byte
{
    /// <summary>Sidecar's own: epoll loops, large receive blocks, sends straight from the flushing thread (src/Core/Transport/Sockets).</summary>
    Epoll,
    /// <summary>Kestrel's socket transport (System.Net.Sockets engine, 4 KiB pool blocks).</summary>
    Kestrel,
}
