using Sidecar.Core.Identity;

namespace Sidecar.Core.Tls;

/// <summary>Which subjectAltName type a matcher looks at (Envoy <c>SubjectAltNameMatcher.SanType</c>).</summary>
public enum SanType
{
    Dns,
    Uri,
}

/// <summary>How a matcher compares (the <c>StringMatcher</c> forms Istio emits).</summary>
public enum SanMatchKind
{
    Exact,
    Prefix,
    /// <summary>Suffix; for DNS this is how Envoy-style wildcard expectations such as <c>.svc.cluster.local</c> are written.</summary>
    Suffix,
}

/// <summary>
/// One entry of Envoy's <c>match_typed_subject_alt_names</c>: the peer is accepted when any entry matches any SAN of
/// its type. Istio uses URI exact (<c>spiffe://td/ns/x/sa/y</c>) and URI prefix (<c>spiffe://td/</c>) for mesh peers.
/// </summary>
public sealed record SanMatcher(SanType Type, SanMatchKind Kind, string Value)
{
    public static SanMatcher UriExact(string value) => new(SanType.Uri, SanMatchKind.Exact, value);
    public static SanMatcher UriPrefix(string value) => new(SanType.Uri, SanMatchKind.Prefix, value);
    public static SanMatcher DnsExact(string value) => new(SanType.Dns, SanMatchKind.Exact, value);
    public static SanMatcher DnsSuffix(string value) => new(SanType.Dns, SanMatchKind.Suffix, value);

    /// <summary>Every workload of a trust domain: URI prefix <c>spiffe://td/</c>.</summary>
    public static SanMatcher AnyInTrustDomain(TrustDomain trustDomain) => UriPrefix(trustDomain.ToIdString() + "/");

    public bool Matches(SubjectAltNames names)
    {
        var candidates = Type == SanType.Uri ? names.Uris : names.DnsNames;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (Matches(candidates[i])) return true;
        }
        return false;
    }

    private bool Matches(string san)
    {
        // URIs compare case-sensitively (SPIFFE IDs are); DNS names compare case-insensitively (RFC 4343).
        var comparison = Type == SanType.Dns ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return Kind switch
        {
            SanMatchKind.Exact => string.Equals(san, Value, comparison),
            SanMatchKind.Prefix => san.StartsWith(Value, comparison),
            _ => san.EndsWith(Value, comparison),
        };
    }

    /// <summary>True when the list is empty (no restriction) or any matcher matches.</summary>
    public static bool AnyMatches(IReadOnlyList<SanMatcher> matchers, SubjectAltNames names)
    {
        if (matchers.Count == 0) return true;
        for (var i = 0; i < matchers.Count; i++)
        {
            if (matchers[i].Matches(names)) return true;
        }
        return false;
    }
}
