using Sidecar.Core.Config.Model;
using Sidecar.Core.Routing;
using Sidecar.Core.Tests.Support;
using Xunit;
using static Sidecar.Core.Tests.Support.RouteConfigs;

namespace Sidecar.Core.Tests.Routing;

public sealed class HeaderMatchingTests
{
    private static bool Matches(HeaderMatcherModel matcher, params string[] headers) =>
        Matches(matcher, TestRequest.Get("x", "/p?q=1", headers));

    private static bool Matches(HeaderMatcherModel matcher, TestRequest request)
    {
        RouteTable table = RouteTable.Build(RouteConfig(Host("h", ["*"], Prefix("r", "/", matcher))));
        return table.Match(ref request, out _) is not null;
    }

    [Theory]
    [InlineData(StringMatchKind.Exact, "v1", "v1", true)]
    [InlineData(StringMatchKind.Exact, "v1", "V1", false)]
    [InlineData(StringMatchKind.Exact, "v1", "v10", false)]
    [InlineData(StringMatchKind.Prefix, "v1", "v10", true)]
    [InlineData(StringMatchKind.Prefix, "v1", "xv1", false)]
    [InlineData(StringMatchKind.Suffix, "-beta", "v1-beta", true)]
    [InlineData(StringMatchKind.Suffix, "-beta", "v1-beta2", false)]
    [InlineData(StringMatchKind.Contains, "canary", "is-canary-x", true)]
    [InlineData(StringMatchKind.Contains, "canary", "is-CANARY-x", false)]
    [InlineData(StringMatchKind.SafeRegex, "v[0-9]+", "v123", true)]
    [InlineData(StringMatchKind.SafeRegex, "v[0-9]+", "v123x", false)]
    public void String_match_kinds(StringMatchKind kind, string pattern, string value, bool expected) =>
        Assert.Equal(expected, Matches(Header("x-version", Str(kind, pattern)), "X-Version: " + value));

    [Theory]
    [InlineData(StringMatchKind.Exact, "V1", "v1")]
    [InlineData(StringMatchKind.Prefix, "AB", "abc")]
    [InlineData(StringMatchKind.Suffix, "BC", "abc")]
    [InlineData(StringMatchKind.Contains, "B", "abc")]
    public void Ignore_case(StringMatchKind kind, string pattern, string value) =>
        Assert.True(Matches(Header("x-v", Str(kind, pattern, ignoreCase: true)), "x-v: " + value));

    [Fact]
    public void Header_name_is_case_insensitive() =>
        Assert.True(Matches(Header("x-user", Str(StringMatchKind.Exact, "bob")), "X-USER: bob"));

    [Fact]
    public void Present_and_absent()
    {
        HeaderMatcherModel present = Header("x-a", null, present: true);
        HeaderMatcherModel absent = Header("x-a", null, present: false);
        Assert.True(Matches(present, "x-a: "));
        Assert.False(Matches(present));
        Assert.False(Matches(absent, "x-a: 1"));
        Assert.True(Matches(absent));
        Assert.True(Matches(Header("x-a", Str(StringMatchKind.Present, "")), "x-a: 1"));
    }

    [Fact]
    public void Invert_match()
    {
        HeaderMatcherModel notV1 = Header("x-v", Str(StringMatchKind.Exact, "v1"), invert: true);
        Assert.False(Matches(notV1, "x-v: v1"));
        Assert.True(Matches(notV1, "x-v: v2"));
        // Envoy: a missing header fails value matchers even when inverted.
        Assert.False(Matches(notV1));
        // Inverted present matcher matches a missing header.
        Assert.True(Matches(Header("x-v", null, invert: true, present: true)));
        Assert.False(Matches(Header("x-v", null, invert: true, present: true), "x-v: 1"));
    }

    [Fact]
    public void Treat_missing_as_empty()
    {
        Assert.True(Matches(Header("x-v", Str(StringMatchKind.Exact, ""), treatMissingAsEmpty: true)));
        Assert.False(Matches(Header("x-v", Str(StringMatchKind.Exact, ""))));
        Assert.True(Matches(Header("x-v", Str(StringMatchKind.Exact, "v1"), invert: true, treatMissingAsEmpty: true)));
    }

    [Fact]
    public void Repeated_headers_are_joined_with_comma()
    {
        Assert.True(Matches(Header("x-v", Str(StringMatchKind.Exact, "a,b")), "x-v: a", "x-v: b"));
        Assert.False(Matches(Header("x-v", Str(StringMatchKind.Exact, "a")), "x-v: a", "x-v: b"));
        Assert.True(Matches(Header("x-v", Str(StringMatchKind.SafeRegex, "a,b,c")), "x-v: a", "x-other: z", "X-V: b", "x-v: c"));
        string big = new('z', 600);
        Assert.True(Matches(Header("x-v", Str(StringMatchKind.Suffix, "," + big)), "x-v: a", "x-v: " + big));
    }

    [Fact]
    public void Pseudo_headers()
    {
        Assert.True(Matches(Header(":method", Str(StringMatchKind.Exact, "POST")), TestRequest.Create("POST", "x", "/")));
        Assert.False(Matches(Header(":method", Str(StringMatchKind.Exact, "POST")), TestRequest.Create("GET", "x", "/")));
        Assert.True(Matches(Header(":authority", Str(StringMatchKind.Prefix, "api.")), TestRequest.Get("api.foo.com:80", "/")));
        Assert.True(Matches(Header(":path", Str(StringMatchKind.Exact, "/p?q=1")), TestRequest.Get("x", "/p?q=1")));
    }

    [Fact]
    public void All_matchers_must_match()
    {
        RouteTable table = RouteTable.Build(RouteConfig(Host("h", ["*"],
            Prefix("both", "/", Header("a", Str(StringMatchKind.Exact, "1")), Header("b", Str(StringMatchKind.Exact, "2"))),
            Prefix("fallback", "/"))));
        TestRequest both = TestRequest.Get("x", "/", "a: 1", "b: 2");
        TestRequest one = TestRequest.Get("x", "/", "a: 1");
        Assert.Equal("both", table.Match(ref both, out _)?.Name);
        Assert.Equal("fallback", table.Match(ref one, out _)?.Name);
    }
}
