using Sidecar.Core.Config.Model;
using Sidecar.Core.Routing;
using Sidecar.Core.Tests.Support;
using Xunit;
using static Sidecar.Core.Tests.Support.RouteConfigs;

namespace Sidecar.Core.Tests.Routing;

public sealed class DomainMatchingTests
{
    private static string? HostFor(RouteTable table, string authority)
    {
        TestRequest request = TestRequest.Get(authority, "/");
        table.Match(ref request, out VirtualHostModel? host);
        return host?.Name;
    }

    private static RouteTable EnvoyExample() => RouteTable.Build(RouteConfig(
        Host("exact", ["foo.bar.com"], Prefix("r", "/")),
        Host("suffix-long", ["*-bar.baz.com"], Prefix("r", "/")),
        Host("suffix", ["*.baz.com"], Prefix("r", "/")),
        Host("suffix-short", ["*.com"], Prefix("r", "/")),
        Host("prefix-long", ["foo.bar.*"], Prefix("r", "/")),
        Host("prefix", ["foo.*"], Prefix("r", "/")),
        Host("default", ["*"], Prefix("r", "/"))));

    [Theory]
    [InlineData("foo.bar.com", "exact")]
    [InlineData("FOO.Bar.COM", "exact")]
    [InlineData("foo.bar.com:8080", "exact")]
    [InlineData("foo-bar.baz.com", "suffix-long")]
    [InlineData("x.baz.com", "suffix")]
    [InlineData("a.b.baz.com", "suffix")]
    [InlineData("-bar.baz.com", "suffix")]
    [InlineData("other.com", "suffix-short")]
    [InlineData("foo.bar.net", "prefix-long")]
    [InlineData("foo.net", "prefix")]
    [InlineData("foo.bar.org:443", "prefix-long")]
    [InlineData("unknown.org", "default")]
    [InlineData("", "default")]
    public void Envoy_precedence_exact_then_longest_suffix_then_longest_prefix_then_default(string authority, string expected) =>
        Assert.Equal(expected, HostFor(EnvoyExample(), authority));

    [Fact]
    public void Suffix_wildcard_needs_at_least_one_character()
    {
        RouteTable table = RouteTable.Build(RouteConfig(Host("suffix", ["*.foo.com"], Prefix("r", "/"))));
        Assert.Null(HostFor(table, ".foo.com"));
        Assert.Null(HostFor(table, "foo.com"));
        Assert.Equal("suffix", HostFor(table, "a.foo.com"));
    }

    [Fact]
    public void Prefix_wildcard_needs_at_least_one_character()
    {
        RouteTable table = RouteTable.Build(RouteConfig(Host("prefix", ["foo.*"], Prefix("r", "/"))));
        Assert.Null(HostFor(table, "foo."));
        Assert.Equal("prefix", HostFor(table, "foo.x"));
    }

    [Fact]
    public void Suffix_wildcard_beats_prefix_wildcard_even_when_shorter()
    {
        RouteTable table = RouteTable.Build(RouteConfig(
            Host("prefix", ["foo.bar.baz.*"], Prefix("r", "/")),
            Host("suffix", ["*.com"], Prefix("r", "/"))));
        Assert.Equal("suffix", HostFor(table, "foo.bar.baz.com"));
    }

    [Fact]
    public void No_virtual_host_returns_null_route_and_host()
    {
        RouteTable table = RouteTable.Build(RouteConfig(Host("a", ["a.com"], Prefix("r", "/"))));
        TestRequest request = TestRequest.Get("b.com", "/");
        Assert.Null(table.Match(ref request, out VirtualHostModel? host));
        Assert.Null(host);
    }

    [Fact]
    public void Domains_with_ports_disable_port_stripping()
    {
        RouteTable table = RouteTable.Build(RouteConfig(
            Host("with-port", ["foo.com:8080"], Prefix("r", "/")),
            Host("bare", ["foo.com"], Prefix("r", "/")),
            Host("default", ["*"], Prefix("r", "/"))));
        Assert.Equal("with-port", HostFor(table, "foo.com:8080"));
        Assert.Equal("bare", HostFor(table, "foo.com"));
        Assert.Equal("default", HostFor(table, "foo.com:9090"));
    }

    [Theory]
    [InlineData("[::1]:8080", "v6")]
    [InlineData("[::1]", "v6")]
    [InlineData("10.0.0.1:80", "v4")]
    public void Ip_literal_hosts_strip_the_port(string authority, string expected)
    {
        RouteTable table = RouteTable.Build(RouteConfig(
            Host("v6", ["[::1]"], Prefix("r", "/")),
            Host("v4", ["10.0.0.1"], Prefix("r", "/"))));
        Assert.Equal(expected, HostFor(table, authority));
    }

    [Fact]
    public void Duplicate_domains_are_rejected_like_envoy() =>
        Assert.Throws<ArgumentException>(() => RouteTable.Build(RouteConfig(
            Host("a", ["x.com"], Prefix("r", "/")),
            Host("b", ["X.com"], Prefix("r", "/")))));

    [Fact]
    public void Thousand_virtual_hosts_resolve_by_exact_and_wildcard()
    {
        var hosts = new VirtualHostModel[1001];
        for (int i = 0; i < 1000; i++)
        {
            hosts[i] = Host("h" + i, ["svc" + i + ".ns.svc.cluster.local", "*.w" + i + ".example"], Prefix("r", "/"));
        }

        hosts[1000] = Host("default", ["*"], Prefix("r", "/"));
        RouteTable table = RouteTable.Build(RouteConfig(hosts));
        Assert.Equal("h777", HostFor(table, "svc777.ns.svc.cluster.local:80"));
        Assert.Equal("h3", HostFor(table, "a.w3.example"));
        Assert.Equal("default", HostFor(table, "svc1000.ns.svc.cluster.local"));
    }

    [Fact]
    public void Long_authority_uses_pooled_buffer()
    {
        string longHost = new string('a', 1000) + ".foo.com";
        RouteTable table = RouteTable.Build(RouteConfig(Host("suffix", ["*.foo.com"], Prefix("r", "/"))));
        Assert.Equal("suffix", HostFor(table, longHost));
    }
}
