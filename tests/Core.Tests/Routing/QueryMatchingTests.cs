using Sidecar.Core.Config.Model;
using Sidecar.Core.Routing;
using Sidecar.Core.Tests.Support;
using Xunit;
using static Sidecar.Core.Tests.Support.RouteConfigs;

namespace Sidecar.Core.Tests.Routing;

public sealed class QueryMatchingTests
{
    private static bool Matches(QueryParameterMatcherModel matcher, string pathAndQuery)
    {
        RouteTable table = RouteTable.Build(RouteConfig(Host("h", ["*"],
            RouteConfigs.Route("r", PathMatchKind.Prefix, "/", query: [matcher]))));
        TestRequest request = TestRequest.Get("x", pathAndQuery);
        return table.Match(ref request, out _) is not null;
    }

    private static QueryParameterMatcherModel Param(string name, StringMatcherModel? matcher, bool present = false) =>
        new() { Name = name, Matcher = matcher, PresentMatch = present };

    [Theory]
    [InlineData("/p?debug=1", true)]
    [InlineData("/p?a=2&debug=1&b=3", true)]
    [InlineData("/p?debug=10", false)]
    [InlineData("/p?Debug=1", false)]
    [InlineData("/p?xdebug=1", false)]
    [InlineData("/p?debug=1#frag", true)]
    [InlineData("/p#?debug=1", false)]
    [InlineData("/p", false)]
    [InlineData("/p?debug=2&debug=1", false)]
    public void Exact_value_first_occurrence(string pathAndQuery, bool expected) =>
        Assert.Equal(expected, Matches(Param("debug", Str(StringMatchKind.Exact, "1")), pathAndQuery));

    [Theory]
    [InlineData("/p?flag", true)]
    [InlineData("/p?flag=", true)]
    [InlineData("/p?flag=x", true)]
    [InlineData("/p?other=1", false)]
    public void Present(string pathAndQuery, bool expected) =>
        Assert.Equal(expected, Matches(Param("flag", null, present: true), pathAndQuery));

    [Fact]
    public void Other_string_kinds()
    {
        Assert.True(Matches(Param("v", Str(StringMatchKind.Prefix, "ab")), "/?v=abc"));
        Assert.True(Matches(Param("v", Str(StringMatchKind.SafeRegex, "[a-c]+")), "/?v=abc"));
        Assert.False(Matches(Param("v", Str(StringMatchKind.SafeRegex, "[a-c]+")), "/?v=abcd"));
        Assert.True(Matches(Param("v", Str(StringMatchKind.Exact, "ABC", ignoreCase: true)), "/?v=abc"));
        Assert.True(Matches(Param("v", Str(StringMatchKind.Exact, "")), "/?v"));
    }

    [Fact]
    public void Values_are_not_percent_decoded()
    {
        Assert.True(Matches(Param("q", Str(StringMatchKind.Exact, "a%20b")), "/?q=a%20b"));
        Assert.False(Matches(Param("q", Str(StringMatchKind.Exact, "a b")), "/?q=a%20b"));
    }
}
