namespace Sidecar;

/// <summary>
/// Envoy's <c>--concurrency</c>. With our transport (the default) it is the number of epoll loops
/// (src/Core/Transport/Sockets): each socket lives on one loop, parsing and forwarding run inline on it, and an
/// upstream socket opened from a loop joins that loop, so a request's downstream and upstream share a thread.
/// With Kestrel's transport (SIDECAR_TRANSPORT=kestrel) it maps onto .NET's socket engine: N event-loop threads that run each
/// connection's parsing and forwarding inline, where the socket operation completed, instead of
/// queueing it to the thread pool (a cross-core wake-up per socket event). Must run before the first
/// socket is created: the runtime reads these variables once, when its socket engine starts.
/// Measured on 2 cores (wrk -c50, nginx upstream, same minute): thread pool 47–57 µs CPU/request, p99
/// 3–4 ms; 2 event loops 36–39 µs, p99 6–8 ms; 1 event loop 32.6 µs, p99 2.5 ms (HAProxy nbthread 1:
/// 24–30 µs, p99 1.8–3 ms). With more than one loop the runtime assigns each socket to a loop round-robin,
/// so a request's downstream and upstream sockets usually live on different threads and every request
/// crosses cores twice; hence the default of one loop (a sidecar's usual budget), and N is opt-in.
/// </summary>
internal static class WorkerThreads
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
    private const string EngineThreads = "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT";

    /// <summary>The --concurrency in effect (0 = thread pool), for /server_info.</summary>
    public static int Concurrency { get; private set; }

    public static void Configure(int concurrency)
    {
        Concurrency = concurrency;
        Sidecar.Core.Transport.TransportSettings.ConfigureEventLoops(Math.Max(1, concurrency));
        if (concurrency <= 0) return;
        // An operator's explicit environment wins over the flag.
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null) Environment.SetEnvironmentVariable(InlineCompletions, "1");
        if (Environment.GetEnvironmentVariable(EngineThreads) is null) Environment.SetEnvironmentVariable(EngineThreads, concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
