using Xunit;

namespace Sidecar.Core.Tests.Config;

/// <summary>
/// Envoy's own .proto tree as shipped in the npm package @grpc/grpc-js-xds (deps/envoy-api plus the xds,
/// udpa/validate and googleapis trees it imports). fetch-envoy-protos.sh unpacks it under
/// &lt;repo&gt;/.cache/envoy-protos; build.sh test runs the script before the tests.
/// </summary>
internal static class EnvoyProtos
{
    public const string Package = "@grpc/grpc-js-xds@1.14.1";

    public static string Deps => Path.Combine(RepoPaths.RepoRoot, ".cache", "envoy-protos", "package", "deps");

    public static string EnvoyApi => Path.Combine(Deps, "envoy-api");

    public static bool Available => Directory.Exists(Path.Combine(EnvoyApi, "envoy", "config", "listener", "v3"));

    /// <summary>CI must never pass without the upstream check having run.</summary>
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string MissingMessage =>
        $"Envoy protos not found at {EnvoyApi}: run tests/Core.Tests/Config/fetch-envoy-protos.sh (needs npm and network; fetches {Package})";

    private static readonly Lazy<ProtoSchema> LazySchema = new(() =>
    {
        Assert.True(Available, MissingMessage);
        // Every tree under deps: envoy-api messages reference xds/udpa/validate/google types by name.
        return ProtoSchema.Load(Directory.EnumerateDirectories(Deps).Order(StringComparer.Ordinal));
    });

    public static ProtoSchema Schema => LazySchema.Value;
}

/// <summary>
/// A fact that needs the upstream protos. Without them it is skipped locally (with the reason), but in CI
/// (CI=true) it runs and fails, because a skipped upstream check would let a wrong field number through.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class EnvoyProtosFactAttribute : FactAttribute
{
    public EnvoyProtosFactAttribute()
    {
        if (!EnvoyProtos.Available && !EnvoyProtos.InCi)
        {
            Skip = EnvoyProtos.MissingMessage;
        }
    }
}
