namespace Sidecar.Core.Identity;

/// <summary>
/// A SPIFFE trust domain name, e.g. <c>cluster.local</c> (SPIFFE-ID spec §2.1). The default value is "no trust domain".
/// </summary>
public readonly struct TrustDomain : IEquatable<TrustDomain>
{
    /// <summary>§2.1: a trust domain is a DNS-like name of at most 255 bytes.</summary>
    public const int MaxLength = 255;

    private readonly string? _name;

    private TrustDomain(string name) => _name = name;

    /// <summary>The trust domain name without scheme, e.g. <c>cluster.local</c>; empty for the default value.</summary>
    public string Name => _name ?? "";

    public bool IsEmpty => _name is null;

    /// <summary>
    /// Parses a bare trust domain name, or takes the trust domain of a full SPIFFE ID when the input contains ":/"
    /// (so <c>spiffe://td/path</c> must be a valid ID as a whole).
    /// </summary>
    public static SpiffeIdError TryParse(string? input, out TrustDomain trustDomain)
    {
        trustDomain = default;
        if (string.IsNullOrEmpty(input)) return SpiffeIdError.MissingTrustDomain;
        if (input.Contains(":/", StringComparison.Ordinal))
        {
            var error = SpiffeId.TryParse(input, out var id);
            if (error == SpiffeIdError.None) trustDomain = id.TrustDomain;
            return error;
        }
        var nameError = Validate(input);
        if (nameError == SpiffeIdError.None) trustDomain = new TrustDomain(input);
        return nameError;
    }

    /// <summary>Checks a bare name: non-empty, ≤255 bytes, only [a-z0-9.-_] (§2.1).</summary>
    internal static SpiffeIdError Validate(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty) return SpiffeIdError.MissingTrustDomain;
        foreach (var c in name)
        {
            if (!IsTrustDomainChar(c)) return SpiffeIdError.BadTrustDomainChar;
        }
        // Checked after the characters: every valid character is one byte, so the length is the byte length.
        return name.Length > MaxLength ? SpiffeIdError.TooLong : SpiffeIdError.None;
    }

    internal static TrustDomain FromValidated(string name) => new(name);

    internal static bool IsTrustDomainChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-' or '_';

    /// <summary>The trust domain as an ID with an empty path: <c>spiffe://name</c>.</summary>
    public string ToIdString() => SpiffeId.Scheme + Name;

    public bool Equals(TrustDomain other) => string.Equals(_name, other._name, StringComparison.Ordinal);
    public override bool Equals(object? obj) => obj is TrustDomain other && Equals(other);
    public override int GetHashCode() => _name is null ? 0 : StringComparer.Ordinal.GetHashCode(_name);
    public static bool operator ==(TrustDomain left, TrustDomain right) => left.Equals(right);
    public static bool operator !=(TrustDomain left, TrustDomain right) => !left.Equals(right);
    public override string ToString() => Name;
}
