using Microsoft.Extensions.Logging;

namespace Sidecar.Core.Tests.Identity.IstioCa;

/// <summary>Keeps (event id, message) of every log call, to check what is logged and how often.</summary>
internal sealed class RecordingLogger : ILogger
{
    private readonly List<(int EventId, string Message)> _entries = [];

    public IReadOnlyList<(int EventId, string Message)> Entries
    {
        get
        {
            lock (_entries) return [.. _entries];
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries) _entries.Add((eventId.Id, formatter(state, exception)));
    }
}
