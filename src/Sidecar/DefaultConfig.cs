namespace Sidecar;

/// <summary>The config compiled into the binary (default-config.yaml), used when no --config is given.</summary>
internal static class DefaultConfig
{
    public static string Text
    {
        get
        {
            using Stream s = typeof(DefaultConfig).Assembly.GetManifestResourceStream("default-config.yaml")
                ?? throw new InvalidOperationException("embedded default-config.yaml is missing");
            using var reader = new StreamReader(s);
            return reader.ReadToEnd();
        }
    }
}
