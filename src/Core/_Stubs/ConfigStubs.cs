// TEMPORARY: replaced by the Config module when its branch merges.
using System.Collections.Immutable;
using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Config
{
    public sealed record ConfigError(string Path, string Message);

    public sealed class ConfigResult<T>(T? value, ImmutableArray<ConfigError> errors)
    {
        public T? Value { get; } = value;
        public ImmutableArray<ConfigError> Errors { get; } = errors;
        public bool IsSuccess => Value is not null;
    }

    public static class ConfigErrorFormatter
    {
        public static string FormatOne(ConfigError e) => e.Path + ": " + e.Message;
    }

    public static class ConfigLoader
    {
        public static ConfigResult<BootstrapModel> LoadFile(string path) => new(null, [new ConfigError(path, "not implemented")]);
        public static ConfigResult<BootstrapModel> LoadText(string text, string name) => new(null, [new ConfigError(name, "not implemented " + text.Length)]);
    }
}
