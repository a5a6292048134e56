using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Xunit;

namespace Sidecar.Core.Tests.HttpFeatures;

/// <summary>Old-style Wasm filters: Istio's native (null VM) plugins are telemetry; any other Wasm stays refused.</summary>
public sealed class WasmTelemetryTranslatorTests
{
    private static ConfigResult<BootstrapModel> Load(string runtime, string code, string rootId = "") => ConfigLoader.LoadText($$"""
static_resources:
  listeners:
  - name: l0
    address: { socket_address: { address: 127.0.0.1, port_value: 18080 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: test
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: backend } }] }] }
          http_filters:
          - name: istio.stats
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                root_id: "{{rootId}}"
                vm_config: { runtime: {{runtime}}, code: { local: { inline_string: {{code}} } } }
                configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: "{}" }
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
  - name: backend
    connect_timeout: 1s
    load_assignment: { cluster_name: backend, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9 } } } }] }] }
""", isJson: false);

    [Theory]
    [InlineData("envoy.wasm.metadata_exchange", "")]
    [InlineData("envoy.wasm.stats", "stats_inbound")]
    [InlineData("envoy.wasm.stats", "stats_outbound")]
    public void IstioNativePluginsAreAcceptedAsTelemetry(string code, string rootId)
    {
        ConfigResult<BootstrapModel> r = Load("envoy.wasm.runtime.null", code, rootId);
        Assert.True(r.IsSuccess, string.Join("\n", r.Errors.Select(ConfigErrorFormatter.FormatOne)));
        Assert.Contains(r.Value!.Listeners[0].NotEnforced, n => n.Contains("Istio's native (null VM)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("envoy.wasm.runtime.v8", "envoy.wasm.stats")]
    [InlineData("envoy.wasm.runtime.null", "my.custom.plugin")]
    public void OtherWasmIsRefused(string runtime, string code)
    {
        ConfigResult<BootstrapModel> r = Load(runtime, code);
        Assert.False(r.IsSuccess);
        Assert.Contains(r.Errors, e => e.Message.Contains("Wasm plugins (arbitrary code acting on each request) cannot run here", StringComparison.Ordinal));
    }
}
