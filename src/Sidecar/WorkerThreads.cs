namespace Sidecar;

/// <summary>
/// Envoy's <c>--concurrency</c> mapped onto .NET's socket engine: N event-loop threads that run each
/// connection's parsing and forwarding inline, where the socket operation completed, instead of
/// queueing it to the thread pool (a cross-core wake-up per socket event). Must run before the first
/// socket is created: the runtime reads these variables once, when its socket engine starts.
/// </summary>
internal static class WorkerThreads
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
    private const string EngineThreads = "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT";

    public static void Configure(int concurrency)
    {
        if (concurrency <= 0) return;
        // An operator's explicit environment wins over the flag.
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null) Environment.SetEnvironmentVariable(InlineCompletions, "1");
        if (Environment.GetEnvironmentVariable(EngineThreads) is null) Environment.SetEnvironmentVariable(EngineThreads, concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
