namespace Sidecar.Core.Identity;

/// <summary>Why a string is not a SPIFFE ID or trust domain (SPIFFE-ID spec §2). Expected bad input, so a value, not an exception.</summary>
public enum SpiffeIdError
{
    None = 0,
    /// <summary>The input is empty.</summary>
    Empty,
    /// <summary>Does not start with the lower-case scheme <c>spiffe://</c> (§2: the scheme is exactly "spiffe").</summary>
    WrongScheme,
    /// <summary>Nothing between <c>spiffe://</c> and the path (§2.1: the trust domain is mandatory).</summary>
    MissingTrustDomain,
    /// <summary>A trust-domain character outside [a-z0-9.-_] (§2.1; this also rules out ports, userinfo and percent-encoding).</summary>
    BadTrustDomainChar,
    /// <summary>A path character outside [a-zA-Z0-9.-_] (§2.2; this also rules out query, fragment and percent-encoding).</summary>
    BadPathChar,
    /// <summary>A path segment is empty (<c>//</c>) (§2.2).</summary>
    EmptySegment,
    /// <summary>A path segment is <c>.</c> or <c>..</c> (§2.2).</summary>
    DotSegment,
    /// <summary>The path ends with <c>/</c> (§2.2).</summary>
    TrailingSlash,
    /// <summary>The trust domain is longer than 255 bytes or the ID longer than 2048 bytes (§2.1, §2.3).</summary>
    TooLong,
}
