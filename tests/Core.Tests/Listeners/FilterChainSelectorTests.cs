using System.Collections.Immutable;
using System.Net;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Listeners;
using Xunit;

namespace Sidecar.Core.Tests.Listeners;

public sealed class FilterChainSelectorTests
{
    private static readonly string[] IstioMtlsAlpn = ["istio-peer-exchange", "istio"];

    private static FilterChainModel Chain(
        string name,
        int? port = null,
        string[]? serverNames = null,
        string? transport = null,
        string[]? alpn = null) => new()
        {
            Name = name,
            Match = new FilterChainMatchModel
            {
                DestinationPort = port,
                ServerNames = [.. serverNames ?? []],
                TransportProtocol = transport,
                ApplicationProtocols = [.. alpn ?? []],
            },
            TcpProxy = new TcpProxyModel { StatPrefix = name, Cluster = name },
        };

    private static FilterChainSelector Build(FilterChainModel? defaultChain, params FilterChainModel[] chains) =>
        FilterChainSelector.Build(new ListenerModel
        {
            Name = "test",
            Address = new IPEndPoint(IPAddress.Any, 15006),
            FilterChains = [.. chains],
            DefaultFilterChain = defaultChain,
        });

    private static string? Select(FilterChainSelector selector, int port, string? sni = null, string transport = "raw_buffer", params string[] alpn) =>
        selector.Select(port, sni, transport, alpn)?.Name;

    [Fact]
    public void Destination_port_chain_beats_portless_chain()
    {
        FilterChainSelector s = Build(null, Chain("any"), Chain("p8080", port: 8080));
        Assert.Equal("p8080", Select(s, 8080));
        Assert.Equal("any", Select(s, 9090));
        Assert.False(s.NeedsTlsInspection);
    }

    [Fact]
    public void Narrowing_never_backtracks_to_a_chain_dropped_at_an_earlier_level()
    {
        // Envoy: port 80 narrows to {tls80}; raw_buffer then matches nothing there, and the
        // port-less chain is not reconsidered.
        FilterChainSelector s = Build(null, Chain("tls80", port: 80, transport: "tls"), Chain("any"));
        Assert.Equal("tls80", Select(s, 80, transport: "tls"));
        Assert.Null(Select(s, 80, transport: "raw_buffer"));
        Assert.Equal("any", Select(s, 81, transport: "raw_buffer"));
        Assert.Equal(1, s.NoFilterChainMatch);
    }

    [Theory]
    [InlineData("www.example.com", "exact")]
    [InlineData("WWW.Example.COM", "exact")]
    [InlineData("api.example.com", "wild-example")]
    [InlineData("x.api.example.com", "wild-example")]
    [InlineData("a.b.example.com", "wild-b-example")]
    [InlineData("b.example.com", "wild-example")]
    [InlineData("example.com", "wild-com")]
    [InlineData("foo.com", "wild-com")]
    [InlineData("localhost", "none")]
    [InlineData("example.org", "none")]
    [InlineData(null, "none")]
    public void Server_names_exact_then_longest_wildcard_then_unset(string? sni, string expected)
    {
        FilterChainSelector s = Build(
            null,
            Chain("wild-com", serverNames: ["*.com"]),
            Chain("none"),
            Chain("wild-example", serverNames: ["*.example.com"]),
            Chain("exact", serverNames: ["www.example.com"]),
            Chain("wild-b-example", serverNames: ["*.b.example.com"]));
        Assert.Equal(expected, Select(s, 443, sni, "tls"));
        Assert.True(s.NeedsTlsInspection);
    }

    [Fact]
    public void Server_name_narrows_before_transport_protocol()
    {
        FilterChainSelector s = Build(null, Chain("sni-tls", serverNames: ["foo.example.com"], transport: "tls"), Chain("raw", transport: "raw_buffer"));
        Assert.Equal("sni-tls", Select(s, 443, "foo.example.com", "tls"));
        Assert.Null(Select(s, 443, "foo.example.com", "raw_buffer"));
        Assert.Equal("raw", Select(s, 443, null, "raw_buffer"));
    }

    [Fact]
    public void Transport_protocol_then_unset_fallback()
    {
        FilterChainSelector s = Build(null, Chain("tls", transport: "tls"), Chain("any"));
        Assert.Equal("tls", Select(s, 1, transport: "tls"));
        Assert.Equal("any", Select(s, 1, transport: "raw_buffer"));
        Assert.True(s.NeedsTlsInspection);
    }

    [Fact]
    public void Application_protocols_follow_client_preference_order()
    {
        FilterChainSelector s = Build(null, Chain("h2", alpn: ["h2"]), Chain("h1", alpn: ["http/1.1"]), Chain("any"));
        Assert.Equal("h1", Select(s, 1, "a", "tls", "http/1.1", "h2"));
        Assert.Equal("h2", Select(s, 1, "a", "tls", "h3", "h2", "http/1.1"));
        Assert.Equal("any", Select(s, 1, "a", "tls", "h3"));
        Assert.Equal("any", Select(s, 1, "a", "tls"));
    }

    /// <summary>Shaped after Istio's virtualInbound listener (port 15006) in PERMISSIVE mode.</summary>
    private static FilterChainSelector IstioInbound() => Build(
        null,
        Chain("inbound|8080|mtls", port: 8080, transport: "tls", alpn: ["istio-peer-exchange", "istio", "istio-http/1.0", "istio-http/1.1", "istio-h2"]),
        Chain("inbound|8080|plaintext", port: 8080, transport: "raw_buffer"),
        Chain("virtualInbound-catchall-mtls", transport: "tls", alpn: IstioMtlsAlpn),
        Chain("virtualInbound-catchall-tls", transport: "tls"),
        Chain("virtualInbound-catchall-plaintext", transport: "raw_buffer"));

    [Theory]
    [InlineData(8080, "tls", new[] { "istio-peer-exchange", "istio" }, "inbound|8080|mtls")]
    [InlineData(8080, "tls", new[] { "istio-http/1.1" }, "inbound|8080|mtls")]
    [InlineData(8080, "raw_buffer", new string[0], "inbound|8080|plaintext")]
    [InlineData(8080, "tls", new[] { "h2" }, null)] // app TLS to a port with explicit chains: no fallback
    [InlineData(9000, "tls", new[] { "istio-peer-exchange", "istio" }, "virtualInbound-catchall-mtls")]
    [InlineData(9000, "tls", new[] { "h2", "http/1.1" }, "virtualInbound-catchall-tls")]
    [InlineData(9000, "tls", new string[0], "virtualInbound-catchall-tls")]
    [InlineData(9000, "raw_buffer", new string[0], "virtualInbound-catchall-plaintext")]
    public void Istio_inbound_listener(int port, string transport, string[] alpn, string? expected)
    {
        FilterChainSelector s = IstioInbound();
        Assert.Equal(expected, Select(s, port, "outbound_.8080_._.reviews.default.svc.cluster.local", transport, alpn));
        Assert.True(s.NeedsTlsInspection);
    }

    [Fact]
    public void No_match_uses_the_default_chain_and_only_null_counts()
    {
        FilterChainModel fallback = Chain("default");
        FilterChainSelector withDefault = Build(fallback, Chain("tls", transport: "tls"));
        Assert.Same(fallback, withDefault.Select(1, null, "raw_buffer", []));
        Assert.Equal(0, withDefault.NoFilterChainMatch);

        FilterChainSelector without = Build(null, Chain("tls", transport: "tls"));
        Assert.Null(without.Select(1, null, "raw_buffer", []));
        Assert.Null(without.Select(2, null, "raw_buffer", []));
        Assert.Equal(2, without.NoFilterChainMatch);

        FilterChainSelector empty = Build(fallback);
        Assert.Same(fallback, empty.Select(1, "x", "tls", ["h2"]));
        Assert.False(empty.NeedsTlsInspection);
    }

    [Fact]
    public void A_chain_with_several_names_and_protocols_matches_on_each()
    {
        FilterChainSelector s = Build(null, Chain("multi", serverNames: ["a.example", "*.b.example"], alpn: ["h2", "http/1.1"]), Chain("other"));
        Assert.Equal("multi", Select(s, 1, "a.example", "tls", "http/1.1"));
        Assert.Equal("multi", Select(s, 1, "x.b.example", "tls", "h2"));
        Assert.Null(Select(s, 1, "a.example", "tls", "h3"));
        Assert.Equal("other", Select(s, 1, "c.example", "tls", "h3"));
    }

    [Fact]
    public void Identical_match_rules_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Build(null, Chain("a", port: 1), Chain("b", port: 1)));
        Assert.Throws<ArgumentException>(() => Build(null, Chain("a"), Chain("b")));
        Assert.Throws<ArgumentException>(() => Build(null, Chain("a", alpn: ["h2", "x"]), Chain("b", alpn: ["h2"])));
        Assert.Throws<ArgumentException>(() => Build(null, Chain("a", serverNames: ["A.com"]), Chain("b", serverNames: ["a.com"])));
    }

    [Theory]
    [InlineData("foo.*.com")]
    [InlineData("*foo.com")]
    [InlineData("*")]
    [InlineData("*.")]
    public void Partial_wildcards_are_rejected(string name) =>
        Assert.Throws<ArgumentException>(() => Build(null, Chain("a", serverNames: [name])));

    [Fact]
    public void Select_allocates_nothing()
    {
        FilterChainSelector s = IstioInbound();
        string[] alpn = ["h2", "istio-peer-exchange", "istio"];
        s.Select(8080, "a.b.example.com", "tls", alpn);
        FilterChainSelector wild = Build(null, Chain("w", serverNames: ["*.example.com"]), Chain("n"));
        wild.Select(1, "a.b.example.com", "tls", alpn);

        int found = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            found += s.Select(8080, "a.b.example.com", "tls", alpn) is null ? 0 : 1;
            found += wild.Select(1, "a.b.example.org", "tls", alpn) is null ? 0 : 1;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2000, found);
        Assert.Equal(0, allocated);
    }
}
