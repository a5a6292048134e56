using System.Collections.Immutable;

namespace Sidecar.Core.Config;

/// <summary>One configuration problem: the config-tree path of the offending field and what is wrong with it.</summary>
public sealed record ConfigError(string Path, string Message)
{
    public override string ToString() => ConfigErrorFormatter.FormatOne(this);
}

/// <summary>
/// Either a value or the complete list of errors. Bad configuration is an expected outcome
/// (operators edit these files by hand), so loading never throws for it.
/// </summary>
public sealed class ConfigResult<T>
    where T : class
{
    internal ConfigResult(T? value, ImmutableArray<ConfigError> errors)
    {
        Value = value;
        Errors = errors;
    }

    /// <summary>Set exactly when <see cref="Errors"/> is empty.</summary>
    public T? Value { get; }
    public ImmutableArray<ConfigError> Errors { get; }
    public bool IsSuccess => Value is not null;
}

/// <summary>Factories for <see cref="ConfigResult{T}"/> (kept off the generic type, CA1000).</summary>
public static class ConfigResult
{
    public static ConfigResult<T> Success<T>(T value)
        where T : class => new(value, []);

    public static ConfigResult<T> Failure<T>(ImmutableArray<ConfigError> errors)
        where T : class =>
        errors.IsDefaultOrEmpty ? throw new ArgumentException("a failure needs at least one error", nameof(errors)) : new(null, errors);

    public static ConfigResult<T> Failure<T>(string path, string message)
        where T : class => new(null, [new ConfigError(path, message)]);
}
