using System.Net;
using System.Net.Sockets;
using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Xunit;

namespace Sidecar.Core.Tests.Config;

/// <summary>Listener <c>transparent</c>/<c>freebind</c> and cluster <c>upstream_bind_config</c> (Istio's inbound passthrough shape).</summary>
public sealed class TransparentConfigTests
{
    private const string C = "static_resources.clusters[0]";

    private static string Config(string listener = "", string bind = "") => $$"""
        static_resources:
          listeners:
          - name: virtualInbound
            address: { socket_address: { address: "::", port_value: 15006 } }
            {{listener}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: inbound
                  cluster: InboundPassthroughCluster
          clusters:
          - name: InboundPassthroughCluster
            type: ORIGINAL_DST
            lb_policy: CLUSTER_PROVIDED
            {{bind}}
        """;

    private static BootstrapModel Load(string yaml)
    {
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(yaml, isJson: false);
        Assert.True(r.IsSuccess, ConfigErrorFormatter.Format(r.Errors));
        return r.Value!;
    }

    private static void AssertError(string yaml, string path, string message)
    {
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(yaml, isJson: false);
        Assert.False(r.IsSuccess, "expected the config to be refused");
        Assert.Contains(r.Errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void ListenerSocketFlagsDefaultOffAndAreRead()
    {
        ListenerModel plain = Load(Config()).Listeners[0];
        Assert.False(plain.Transparent);
        Assert.False(plain.Freebind);
        ListenerModel tproxy = Load(Config(listener: "transparent: true\n    freebind: true")).Listeners[0];
        Assert.True(tproxy.Transparent);
        Assert.True(tproxy.Freebind);
    }

    [Fact]
    public void IstioInboundPassthroughBindsOneSourcePerFamily()
    {
        ClusterModel none = Load(Config()).Clusters["InboundPassthroughCluster"];
        Assert.Null(none.UpstreamBind);

        ClusterModel c = Load(Config(bind: """
            upstream_bind_config:
                  source_address: { address: 127.0.0.6, port_value: 0 }
                  extra_source_addresses: [{ address: { address: "::6", port_value: 0 } }]
                  freebind: true
            """)).Clusters["InboundPassthroughCluster"];
        UpstreamBindModel bind = c.UpstreamBind!;
        Assert.Equal(IPAddress.Parse("127.0.0.6"), bind.SourceFor(AddressFamily.InterNetwork));
        Assert.Equal(IPAddress.Parse("::6"), bind.SourceFor(AddressFamily.InterNetworkV6));
        Assert.True(bind.Freebind);

        // Only IPv4 configured: an IPv6 upstream is left to the kernel's choice of source.
        UpstreamBindModel v4Only = Load(Config(bind: "upstream_bind_config: { source_address: { address: 127.0.0.6 } }")).Clusters["InboundPassthroughCluster"].UpstreamBind!;
        Assert.Null(v4Only.SourceFor(AddressFamily.InterNetworkV6));
    }

    [Theory]
    [InlineData("upstream_bind_config: { source_address: { address: 127.0.0.6, port_value: 1234 } }", C + ".upstream_bind_config.source_address", "fixed source port_value")]
    [InlineData("upstream_bind_config: { source_address: { address: localhost } }", C + ".upstream_bind_config.source_address", "must be an IP literal")]
    [InlineData("upstream_bind_config: { freebind: true }", C + ".upstream_bind_config", "source_address is required")]
    [InlineData("upstream_bind_config: { source_address: { address: 127.0.0.6 }, extra_source_addresses: [{ address: { address: 127.0.0.7 } }] }",
        C + ".upstream_bind_config.extra_source_addresses[0].address", "two source addresses of the same IP family")]
    [InlineData("upstream_bind_config: { source_address: { address: 127.0.0.6 }, socket_options: [{ level: 1 }] }", C + ".upstream_bind_config.socket_options", "socket_options")]
    public void BadBindConfigNamesItsPath(string bind, string path, string message) => AssertError(Config(bind: bind), path, message);

    [Fact]
    public void TransparentMustBeABool() =>
        AssertError(Config(listener: "transparent: yes"), "static_resources.listeners[0].transparent", "expected true or false");
}
