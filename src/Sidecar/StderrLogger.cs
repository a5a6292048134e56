using Microsoft.Extensions.Logging;

namespace Sidecar;

/// <summary>
/// The process log: one line per event on stderr, as istio-proxy's (timestamp, level, category, message).
/// Hand-written rather than Microsoft.Extensions.Logging.Console: no options binding, no background queue thread.
/// </summary>
internal sealed class StderrLogger(string category, LogLevel minimum) : ILogger
{
    private static readonly Lock Gate = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string level = logLevel switch
        {
            LogLevel.Trace => "trace",
            LogLevel.Debug => "debug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warning",
            LogLevel.Error => "error",
            _ => "critical",
        };
        string line = $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.ffffffZ}\t{level}\t{category}\t{formatter(state, exception)}";
        if (exception is not null) line += "\t" + exception.GetType().Name + ": " + exception.Message;
        lock (Gate) Console.Error.WriteLine(line);
    }

    /// <summary><c>SIDECAR_LOG_LEVEL</c> (trace|debug|info|warning|error), info by default.</summary>
    public static LogLevel LevelFromEnvironment() => Environment.GetEnvironmentVariable("SIDECAR_LOG_LEVEL")?.ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "warning" or "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => LogLevel.Information,
    };
}
