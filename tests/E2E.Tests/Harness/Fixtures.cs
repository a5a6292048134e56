using Xunit;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Sidecar.E2E.Tests.Harness;

/// <summary>One nginx + python backend per test class (tests use distinct paths, so sharing is safe).</summary>
public sealed class UpstreamFixture : IAsyncLifetime
{
    private UpstreamPeers? _peers;
    public UpstreamPeers Peers => _peers ?? throw new InvalidOperationException("peers not started");

    public async Task InitializeAsync() => _peers = await UpstreamPeers.Start();

    public Task DisposeAsync()
    {
        _peers?.Dispose();
        return Task.CompletedTask;
    }
}

public static class Sidecars
{
    /// <summary>A sidecar with one HTTP listener, every path → nginx (cluster "web").</summary>
    public static async Task<(SidecarProcess Sidecar, int Port)> InFrontOf(UpstreamPeers peers, Xunit.Abstractions.ITestOutputHelper output,
        string? routeTimeout = null, string? requestHeadersTimeout = null, int? maxRequestHeadersKb = null, params string[] extraArgs)
    {
        var cfg = new SidecarConfig();
        var port = cfg.AddHttpListener([new RouteSpec("/", "web", routeTimeout)],
            requestHeadersTimeout: requestHeadersTimeout, maxRequestHeadersKb: maxRequestHeadersKb);
        cfg.AddCluster(new ClusterSpec("web", peers.NginxPort));
        var sc = await SidecarProcess.Start(cfg, output, null, extraArgs);
        return (sc, port);
    }

    /// <summary>A sidecar with every path → the python backend directly (cluster "backend"); a lax upstream
    /// that would act on anything the proxy lets through (used for request-smuggling probes).</summary>
    public static async Task<(SidecarProcess Sidecar, int Port)> InFrontOfBackend(UpstreamPeers peers, Xunit.Abstractions.ITestOutputHelper output)
    {
        var cfg = new SidecarConfig();
        var port = cfg.AddHttpListener([new RouteSpec("/", "backend")]);
        cfg.AddCluster(new ClusterSpec("backend", peers.BackendPort));
        var sc = await SidecarProcess.Start(cfg, output);
        return (sc, port);
    }
}
