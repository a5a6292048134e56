namespace Sidecar.Core.Tests.Config;

/// <summary>Locates the repo root (the folder holding Sidecar.sln) and the shared conformance material beside it.</summary>
internal static class RepoPaths
{
    public static string RepoRoot
    {
        get
        {
            DirectoryInfo? dir = new(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sidecar.sln")))
            {
                dir = dir.Parent;
            }
            return dir?.FullName ?? throw new InvalidOperationException("Sidecar.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary><c>../shared/conformance/envoy</c> relative to the repo root.</summary>
    public static string EnvoyConformance => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "conformance", "envoy"));
}
