using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Xunit;

namespace Sidecar.Core.Tests.Config;

/// <summary>
/// Every YAML/JSON file of the Envoy examples in ../shared/conformance/envoy has a pinned outcome: it loads,
/// or it is refused with a known first error path (the concrete unsupported feature). docs/CONFIG.md
/// mirrors this table; a new file without an entry fails <see cref="EveryFileHasAnExpectation"/>.
/// </summary>
public sealed class EnvoyConformanceTests
{
    private const string Hcm0 = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config";

    /// <summary>Relative path → expected first error path (null = loads).</summary>
    public static readonly IReadOnlyDictionary<string, string?> Expected = new Dictionary<string, string?>(StringComparer.Ordinal)
    {
        ["configs/proxy_connect.yaml"] = null,
        ["configs/encapsulate_in_http2_connect.yaml"] = Hcm0 + ".tunneling_config",
        ["configs/envoy-demo.yaml"] = "static_resources.listeners[1].filter_chains[0].filters[0].typed_config.local_reply_config",
        ["configs/jwt_authn.yaml"] = Hcm0 + ".http_filters[0]",
        ["examples/double-proxy/envoy-backend.yaml"] = "static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificates[0].certificate_chain.filename",
        ["examples/double-proxy/envoy-frontend.yaml"] = "static_resources.clusters[0].transport_socket.typed_config.common_tls_context.tls_certificates[0].certificate_chain.filename",
        ["examples/double-proxy/envoy.yaml"] = null,
        ["examples/dynamic-config-cp/envoy.yaml"] = "dynamic_resources",
        ["examples/dynamic-config-fs/configs/cds.yaml"] = "resources",
        ["examples/dynamic-config-fs/configs/lds.yaml"] = "resources",
        ["examples/dynamic-config-fs/envoy.yaml"] = "dynamic_resources",
        ["examples/ext_authz/config/grpc-service/v3.yaml"] = Hcm0 + ".http_filters[0]",
        ["examples/ext_authz/config/http-service.yaml"] = Hcm0 + ".http_filters[0]",
        ["examples/fault-injection/envoy.yaml"] = Hcm0 + ".http_filters[0].typed_config.abort",
        ["examples/front-proxy/envoy.yaml"] = "layered_runtime",
        ["examples/front-proxy/service-envoy.yaml"] = null,
        ["examples/grpc-bridge/client/envoy-proxy.yaml"] = Hcm0 + ".add_user_agent",
        ["examples/grpc-bridge/server/envoy-proxy.yaml"] = Hcm0 + ".route_config.virtual_hosts[0].routes[0].match.grpc",
        ["examples/local_ratelimit/envoy.yaml"] = Hcm0 + ".http_filters[0]",
        ["examples/locality-load-balancing/envoy.yaml"] = "static_resources.clusters[0].common_lb_config.locality_weighted_lb_config",
        ["examples/rbac/envoy.yaml"] = Hcm0 + ".http_filters[0].typed_config.matcher",
        ["examples/route-mirror/envoy.yaml"] = Hcm0 + ".route_config.virtual_hosts[0].routes[0].route.request_mirror_policies",
        ["examples/tls-inspector/envoy.yaml"] = null,
        ["examples/tls-sni/envoy-client.yaml"] = null,
        ["examples/tls-sni/envoy.yaml"] = "static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificates[0].certificate_chain.filename",
        ["examples/tls/envoy-http-https.yaml"] = null,
        ["examples/tls/envoy-https-http.yaml"] = null,
        ["examples/tls/envoy-https-https.yaml"] = null,
        ["examples/tls/envoy-https-passthrough.yaml"] = null,
        ["examples/websocket/envoy-ws-route.yaml"] = null,
        ["examples/websocket/envoy-ws.yaml"] = null,
        ["examples/websocket/envoy-wss-passthrough.yaml"] = null,
        ["examples/websocket/envoy-wss.yaml"] = null,
    };

    private static IEnumerable<string> ConfigFiles()
    {
        string root = RepoPaths.EnvoyConformance;
        Assert.True(Directory.Exists(root), $"conformance material not found at {root} (../shared beside the repo)");
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
    }

    [Fact]
    public void EveryFileHasAnExpectation()
    {
        Assert.Equal(Expected.Keys.Order(StringComparer.Ordinal).ToArray(), ConfigFiles().ToArray());
    }

    public static TheoryData<string> Files() => [.. Expected.Keys];

    [Theory]
    [MemberData(nameof(Files))]
    public void FileHasItsExpectedOutcome(string relativePath)
    {
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadFile(Path.Combine(RepoPaths.EnvoyConformance, relativePath));
        string? expected = Expected[relativePath];
        if (expected is null)
        {
            Assert.True(r.IsSuccess, ConfigErrorFormatter.Format(r.Errors));
            Assert.NotEmpty(r.Value!.Listeners);
        }
        else
        {
            Assert.False(r.IsSuccess, "expected the file to be refused");
            Assert.Equal(expected, r.Errors[0].Path);
        }
    }

    [Fact]
    public void TlsInspectorExampleRoutesBySniWithoutTerminating()
    {
        BootstrapModel m = ConfigLoader.LoadFile(Path.Combine(RepoPaths.EnvoyConformance, "examples/tls-inspector/envoy.yaml")).Value!;
        ListenerModel l = Assert.Single(m.Listeners);
        Assert.Equal(3, l.FilterChains.Length);
        Assert.All(l.FilterChains, c => Assert.NotNull(c.TcpProxy));
        Assert.Contains(l.FilterChains, c => c.Match.TransportProtocol == "tls");
        Assert.Equal(3, m.Clusters.Count);
    }

    [Fact]
    public void WebSocketExamplesEnableUpgrades()
    {
        foreach (string f in new[] { "examples/websocket/envoy-ws.yaml", "examples/websocket/envoy-ws-route.yaml" })
        {
            BootstrapModel m = ConfigLoader.LoadFile(Path.Combine(RepoPaths.EnvoyConformance, f)).Value!;
            RouteActionModel a = m.Listeners[0].FilterChains[0].Http!.RouteConfig.VirtualHosts[0].Routes[0].Action!;
            Assert.True(a.AllowWebSocket, f);
        }
    }
}
