using Xunit;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Tests.Identity;

public sealed class SpiffeIdTests
{
    [Fact]
    public void IstioIdentityRoundTrips()
    {
        Assert.Equal(SpiffeIdError.None, TrustDomain.TryParse("cluster.local", out var td));
        Assert.Equal(SpiffeIdError.None, SpiffeId.TryCreateIstio(td, "default", "bookinfo-productpage", out var id));
        Assert.Equal("spiffe://cluster.local/ns/default/sa/bookinfo-productpage", id.ToString());
        Assert.Equal("cluster.local/ns/default/sa/bookinfo-productpage", id.Principal);
        Assert.True(id.TryGetIstioIdentity(out var ns, out var sa));
        Assert.Equal(("default", "bookinfo-productpage"), (ns, sa));
        Assert.Equal(td, id.TrustDomain);
    }

    [Theory]
    [InlineData("spiffe://td")]
    [InlineData("spiffe://td/ns/a")]
    [InlineData("spiffe://td/ns/a/sa")]
    [InlineData("spiffe://td/ns/a/sa/b/extra")]
    [InlineData("spiffe://td/sa/b/ns/a")]
    [InlineData("spiffe://td/workload-1")]
    public void NonIstioShapesAreNotIstioIdentities(string input)
    {
        Assert.Equal(SpiffeIdError.None, SpiffeId.TryParse(input, out var id));
        Assert.False(id.TryGetIstioIdentity(out _, out _));
    }

    [Fact]
    public void IstioHelperRejectsBadNames()
    {
        TrustDomain.TryParse("cluster.local", out var td);
        Assert.Equal(SpiffeIdError.BadPathChar, SpiffeId.TryCreateIstio(td, "de fault", "sa", out _));
        Assert.Equal(SpiffeIdError.EmptySegment, SpiffeId.TryCreateIstio(td, "", "sa", out _));
        Assert.Equal(SpiffeIdError.MissingTrustDomain, SpiffeId.TryCreateIstio(default, "ns", "sa", out _));
    }

    [Theory]
    [InlineData("spiffe://td:8080/path", SpiffeIdError.BadTrustDomainChar)] // port
    [InlineData("spiffe://user@td/path", SpiffeIdError.BadTrustDomainChar)] // userinfo
    [InlineData("spiffe://td/path?query", SpiffeIdError.BadPathChar)]
    [InlineData("spiffe://td/path#fragment", SpiffeIdError.BadPathChar)]
    [InlineData("spiffe://TD/path", SpiffeIdError.BadTrustDomainChar)] // upper case is not normalised, it is refused
    [InlineData("SPIFFE://td/path", SpiffeIdError.WrongScheme)]
    [InlineData("https://td/path", SpiffeIdError.WrongScheme)]
    public void RefusesUriFeaturesSpiffeForbids(string input, SpiffeIdError expected)
    {
        Assert.Equal(expected, SpiffeId.TryParse(input, out _));
    }

    [Fact]
    public void LengthLimits()
    {
        Assert.Equal(SpiffeIdError.None, TrustDomain.TryParse(new string('a', 255), out _));
        Assert.Equal(SpiffeIdError.TooLong, TrustDomain.TryParse(new string('a', 256), out _));
        Assert.Equal(SpiffeIdError.TooLong, SpiffeId.TryParse("spiffe://" + new string('a', 256) + "/p", out _));
        var longest = "spiffe://td/" + new string('p', SpiffeId.MaxLength - "spiffe://td/".Length);
        Assert.Equal(SpiffeIdError.None, SpiffeId.TryParse(longest, out _));
        Assert.Equal(SpiffeIdError.TooLong, SpiffeId.TryParse(longest + "p", out _));
    }

    [Fact]
    public void EqualityIsOrdinalOnTheWholeId()
    {
        SpiffeId.TryParse("spiffe://td/a", out var a1);
        SpiffeId.TryParse("spiffe://td/a", out var a2);
        SpiffeId.TryParse("spiffe://td/A", out var upper);
        Assert.Equal(a1, a2);
        Assert.NotEqual(a1, upper);
        Assert.True(default(SpiffeId).IsEmpty);
        Assert.Equal("", default(SpiffeId).ToString());
    }
}
