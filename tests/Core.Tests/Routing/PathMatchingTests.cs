using Sidecar.Core.Config.Model;
using Sidecar.Core.Routing;
using Sidecar.Core.Tests.Support;
using Xunit;
using static Sidecar.Core.Tests.Support.RouteConfigs;

namespace Sidecar.Core.Tests.Routing;

public sealed class PathMatchingTests
{
    private static bool Matches(RouteModel route, string pathAndQuery, string method = "GET")
    {
        RouteTable table = RouteTable.Build(RouteConfig(Host("h", ["*"], route)));
        TestRequest request = TestRequest.Create(method, "x", pathAndQuery);
        return table.Match(ref request, out _) is not null;
    }

    [Theory]
    [InlineData("/api", "/api", true)]
    [InlineData("/api", "/api/v1", true)]
    [InlineData("/api", "/apiv1", true)]
    [InlineData("/api", "/ap", false)]
    [InlineData("/api", "/API", false)]
    [InlineData("/", "/anything?x=1", true)]
    [InlineData("", "/", true)]
    [InlineData("/a?b", "/a?b", false)]
    public void Prefix(string prefix, string path, bool expected) =>
        Assert.Equal(expected, Matches(RouteConfigs.Route("r", PathMatchKind.Prefix, prefix), path));

    [Theory]
    [InlineData("/API", "/api/v1", true)]
    [InlineData("/api", "/ApI", true)]
    public void Prefix_case_insensitive(string prefix, string path, bool expected) =>
        Assert.Equal(expected, Matches(RouteConfigs.Route("r", PathMatchKind.Prefix, prefix, caseSensitive: false), path));

    [Theory]
    [InlineData("/exact", "/exact", true)]
    [InlineData("/exact", "/exact?q=1", true)]
    [InlineData("/exact", "/exact#frag", true)]
    [InlineData("/exact", "/exact/", false)]
    [InlineData("/exact", "/EXACT", false)]
    [InlineData("/exact", "/exac", false)]
    public void Path_is_exact_without_query(string value, string path, bool expected) =>
        Assert.Equal(expected, Matches(RouteConfigs.Route("r", PathMatchKind.Path, value), path));

    [Fact]
    public void Path_case_insensitive() =>
        Assert.True(Matches(RouteConfigs.Route("r", PathMatchKind.Path, "/Exact", caseSensitive: false), "/eXACT?x"));

    [Theory]
    [InlineData("/foo", "/foo", true)]
    [InlineData("/foo", "/foo/", true)]
    [InlineData("/foo", "/foo/bar", true)]
    [InlineData("/foo", "/foo?x=1", true)]
    [InlineData("/foo", "/foobar", false)]
    [InlineData("/foo", "/fo", false)]
    [InlineData("/foo", "/FOO/bar", false)]
    public void Path_separated_prefix(string value, string path, bool expected) =>
        Assert.Equal(expected, Matches(RouteConfigs.Route("r", PathMatchKind.PathSeparatedPrefix, value), path));

    [Fact]
    public void Path_separated_prefix_case_insensitive() =>
        Assert.True(Matches(RouteConfigs.Route("r", PathMatchKind.PathSeparatedPrefix, "/foo", caseSensitive: false), "/FOO/bar"));

    [Theory]
    [InlineData("/v[0-9]+/users", "/v12/users", true)]
    [InlineData("/v[0-9]+/users", "/v12/users?id=3", true)]
    [InlineData("/v[0-9]+/users", "/v12/users/3", false)]
    [InlineData("/v[0-9]+/users", "/x/v12/users", false)]
    [InlineData("a|ab", "ab", true)]
    [InlineData("/users/[^/]+", "/users/" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    public void Safe_regex_must_match_whole_path_without_query(string pattern, string path, bool expected) =>
        Assert.Equal(expected, Matches(RouteConfigs.Route("r", PathMatchKind.SafeRegex, pattern), path));

    [Fact]
    public void Routes_are_first_match_in_order()
    {
        RouteTable table = RouteTable.Build(RouteConfig(Host("h", ["*"],
            RouteConfigs.Route("exact", PathMatchKind.Path, "/a/b"),
            RouteConfigs.Route("prefix-a", PathMatchKind.Prefix, "/a"),
            RouteConfigs.Route("catch-all", PathMatchKind.Prefix, "/"),
            RouteConfigs.Route("never", PathMatchKind.Path, "/z"))));
        Assert.Equal("exact", Name(table, "/a/b"));
        Assert.Equal("prefix-a", Name(table, "/a/b/c"));
        Assert.Equal("catch-all", Name(table, "/z"));
    }

    [Fact]
    public void Virtual_host_without_matching_route_reports_the_host()
    {
        RouteTable table = RouteTable.Build(RouteConfig(Host("h", ["*"], RouteConfigs.Route("r", PathMatchKind.Path, "/only"))));
        TestRequest request = TestRequest.Get("x", "/other");
        Assert.Null(table.Match(ref request, out VirtualHostModel? host));
        Assert.Equal("h", host?.Name);
    }

    private static string? Name(RouteTable table, string path)
    {
        TestRequest request = TestRequest.Get("x", path);
        return table.Match(ref request, out _)?.Name;
    }
}
