using System.Text.Json;
using Xunit;
using Sidecar.Core.Identity;

namespace Sidecar.Core.Tests.Identity;

/// <summary>
/// Every vector of ../shared/conformance/spiffe/spiffe-id-vectors.json (go-spiffe's FromString and TrustDomainFromString
/// tables, per-character loops expanded): validity, the parsed parts, and the error class matching go-spiffe's wording.
/// </summary>
public sealed class SpiffeIdVectorTests
{
    private static JsonElement Vectors()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(IdentityTestData.Spiffe, "spiffe-id-vectors.json")));
        return doc.RootElement.Clone();
    }

    /// <summary>go-spiffe's error wording → our enum; only valid/invalid is normative, but the class should agree too.</summary>
    private static SpiffeIdError ExpectedError(string errorContains) => errorContains switch
    {
        _ when errorContains.Contains("cannot be empty") => SpiffeIdError.Empty,
        _ when errorContains.Contains("scheme is missing or invalid") => SpiffeIdError.WrongScheme,
        _ when errorContains.Contains("trust domain is missing") => SpiffeIdError.MissingTrustDomain,
        _ when errorContains.Contains("trust domain characters") => SpiffeIdError.BadTrustDomainChar,
        _ when errorContains.Contains("path segment characters") => SpiffeIdError.BadPathChar,
        _ when errorContains.Contains("empty segments") => SpiffeIdError.EmptySegment,
        _ when errorContains.Contains("dot segments") => SpiffeIdError.DotSegment,
        _ when errorContains.Contains("trailing slash") => SpiffeIdError.TrailingSlash,
        _ => throw new InvalidOperationException("unmapped go-spiffe error: " + errorContains),
    };

    [Theory]
    [InlineData("explicit", 25)]
    [InlineData("charset_expanded", 510)]
    public void EveryIdVector(string group, int expectedCount)
    {
        var cases = Vectors().GetProperty("id_from_string").GetProperty(group);
        Assert.Equal(expectedCount, cases.GetArrayLength());
        var failures = new List<string>();
        foreach (var c in cases.EnumerateArray())
        {
            var input = c.GetProperty("input").GetString()!;
            var error = SpiffeId.TryParse(input, out var id);
            if (c.GetProperty("valid").GetBoolean())
            {
                if (error != SpiffeIdError.None) failures.Add($"{Show(input)}: expected valid, got {error}");
                else if (id.TrustDomain.Name != c.GetProperty("trust_domain").GetString() || id.Path.ToString() != c.GetProperty("path").GetString() || id.ToString() != input)
                    failures.Add($"{Show(input)}: parts td={id.TrustDomain} path={id.Path.ToString()}");
            }
            else
            {
                var expected = ExpectedError(c.GetProperty("error_contains").GetString()!);
                if (error != expected) failures.Add($"{Show(input)}: expected {expected}, got {error}");
                if (!id.IsEmpty) failures.Add($"{Show(input)}: id set on failure");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("explicit", 10)]
    [InlineData("charset_expanded", 295)]
    public void EveryTrustDomainVector(string group, int expectedCount)
    {
        var cases = Vectors().GetProperty("trust_domain_from_string").GetProperty(group);
        Assert.Equal(expectedCount, cases.GetArrayLength());
        var failures = new List<string>();
        foreach (var c in cases.EnumerateArray())
        {
            var input = c.GetProperty("input").GetString()!;
            var error = TrustDomain.TryParse(input, out var td);
            if (c.GetProperty("valid").GetBoolean())
            {
                if (error != SpiffeIdError.None) failures.Add($"{Show(input)}: expected valid, got {error}");
                else if (td.Name != c.GetProperty("trust_domain").GetString()) failures.Add($"{Show(input)}: td={td}");
            }
            else
            {
                var expected = ExpectedError(c.GetProperty("error_contains").GetString()!);
                if (error != expected) failures.Add($"{Show(input)}: expected {expected}, got {error}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static string Show(string s)
    {
        var sb = new System.Text.StringBuilder("\"");
        foreach (var c in s) sb.Append(c is >= ' ' and < (char)127 ? c.ToString() : $"\\u{(int)c:x4}");
        return sb.Append('"').ToString();
    }
}
