using System.Diagnostics;
using Sidecar.Core.Tests.Config;
using Xunit;

namespace Sidecar.Core.Tests.Xds.Schema;

/// <summary>
/// Paths and external tools of the xDS schema/decoding tests: Envoy's .proto tree (fetch-envoy-protos.sh),
/// protobufjs (install-protobufjs.sh, both into the repo's .cache) and node. Tests that need them use
/// <see cref="EnvoyProtosFactAttribute"/>: skipped locally without the protos, run (and fail) in CI.
/// </summary>
internal static class XdsTestTools
{
    public static string SchemaDir => Path.Combine(RepoPaths.RepoRoot, "tests", "Core.Tests", "Xds", "Schema");

    public static string DecodingDir => Path.Combine(RepoPaths.RepoRoot, "tests", "Core.Tests", "Xds", "Decoding");

    public static string GeneratedSchemaFile => Path.Combine(RepoPaths.RepoRoot, "src", "Core", "Xds", "Schema", "EnvoySchemaText.g.cs");

    /// <summary><c>../shared/conformance/istio</c> relative to the repo root.</summary>
    public static string IstioConformance => Path.GetFullPath(Path.Combine(RepoPaths.RepoRoot, "..", "shared", "conformance", "istio"));

    private static readonly Lazy<string> NodeModules = new(() =>
    {
        (int code, string stdout, string stderr) = Run("/bin/bash", [Path.Combine(SchemaDir, "install-protobufjs.sh"), RepoPaths.RepoRoot], null, TimeSpan.FromMinutes(6));
        Assert.True(code == 0, "protobufjs could not be installed (needs npm and network):\n" + stdout + stderr);
        return Path.Combine(RepoPaths.RepoRoot, ".cache", "protobufjs", "node_modules");
    });

    /// <summary>Runs a node script with protobufjs on NODE_PATH; fails the test when node is missing or the script fails.</summary>
    public static string RunNode(string script, params string[] args)
    {
        string modules = NodeModules.Value;
        (int code, string stdout, string stderr) = Run("node", [script, .. args], modules, TimeSpan.FromMinutes(5));
        Assert.True(code == 0, $"node {Path.GetFileName(script)} exited {code}:\n{stderr}");
        return stderr;
    }

    private static (int Code, string Stdout, string Stderr) Run(string file, string[] args, string? nodePath, TimeSpan timeout)
    {
        ProcessStartInfo info = new(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }
        if (nodePath is not null)
        {
            info.Environment["NODE_PATH"] = nodePath;
        }
        using Process p = Process.Start(info) ?? throw new InvalidOperationException("cannot start " + file);
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            return (-1, stdout.Result, "timed out\n" + stderr.Result);
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>The xDS decoding tests allocate a lot and time themselves: they run alone, after the parallel classes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class XdsDecodingCollection
{
    public const string Name = "Xds decoding (allocation-heavy)";
}
