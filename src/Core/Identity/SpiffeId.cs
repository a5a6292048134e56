namespace Sidecar.Core.Identity;

/// <summary>
/// A validated SPIFFE ID, <c>spiffe://&lt;trust domain&gt;&lt;path&gt;</c> (SPIFFE-ID spec §2). Istio workload identities are
/// <c>spiffe://&lt;td&gt;/ns/&lt;namespace&gt;/sa/&lt;service account&gt;</c>. The default value is "no identity".
/// </summary>
public readonly struct SpiffeId : IEquatable<SpiffeId>
{
    public const string Scheme = "spiffe://";

    /// <summary>§2.3: implementations must accept IDs up to 2048 bytes and should not produce longer ones.</summary>
    public const int MaxLength = 2048;

    private readonly string? _value;
    private readonly string? _trustDomain;

    private SpiffeId(string value, string trustDomain)
    {
        _value = value;
        _trustDomain = trustDomain;
    }

    public bool IsEmpty => _value is null;

    /// <summary>Kept as its own string so authorization checks per request do not cut it out of the ID again.</summary>
    public TrustDomain TrustDomain => _trustDomain is null ? default : TrustDomain.FromValidated(_trustDomain);

    /// <summary>The path including its leading slash, or empty (an ID may name the trust domain itself).</summary>
    public ReadOnlySpan<char> Path => _value is null ? default : _value.AsSpan(Scheme.Length + _trustDomain!.Length);

    /// <summary>Parses and validates <paramref name="input"/>; the checks run in the order of the spec's sections.</summary>
    public static SpiffeIdError TryParse(string? input, out SpiffeId id)
    {
        id = default;
        if (string.IsNullOrEmpty(input)) return SpiffeIdError.Empty;
        // §2: the scheme is "spiffe", compared case-sensitively as the spec writes it.
        if (!input.StartsWith(Scheme, StringComparison.Ordinal)) return SpiffeIdError.WrongScheme;

        var rest = input.AsSpan(Scheme.Length);
        var slash = rest.IndexOf('/');
        var trustDomain = slash < 0 ? rest : rest[..slash];
        if (trustDomain.IsEmpty) return SpiffeIdError.MissingTrustDomain;
        var tdError = TrustDomain.Validate(trustDomain);
        if (tdError != SpiffeIdError.None) return tdError;

        if (slash >= 0)
        {
            var pathError = ValidatePath(rest[slash..]);
            if (pathError != SpiffeIdError.None) return pathError;
        }
        // All remaining characters are ASCII, so the char count is the byte count.
        if (input.Length > MaxLength) return SpiffeIdError.TooLong;

        id = new SpiffeId(input, trustDomain.ToString());
        return SpiffeIdError.None;
    }

    /// <summary>
    /// §2.2: the path is "/"-separated segments of [a-zA-Z0-9.-_]; no empty segment, no "." or "..", no trailing slash.
    /// <paramref name="path"/> starts with '/'.
    /// </summary>
    internal static SpiffeIdError ValidatePath(ReadOnlySpan<char> path)
    {
        var segmentStart = 1;
        for (var i = 1; i < path.Length; i++)
        {
            var c = path[i];
            if (c == '/')
            {
                var segmentError = ValidateSegment(path[segmentStart..i], isLast: false);
                if (segmentError != SpiffeIdError.None) return segmentError;
                segmentStart = i + 1;
            }
            else if (!IsPathChar(c))
            {
                return SpiffeIdError.BadPathChar;
            }
        }
        return ValidateSegment(path[segmentStart..], isLast: true);
    }

    private static SpiffeIdError ValidateSegment(ReadOnlySpan<char> segment, bool isLast)
    {
        if (segment.IsEmpty) return isLast ? SpiffeIdError.TrailingSlash : SpiffeIdError.EmptySegment;
        if (segment is "." or "..") return SpiffeIdError.DotSegment;
        return SpiffeIdError.None;
    }

    internal static bool IsPathChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '-' or '_';

    /// <summary>Builds Istio's workload identity <c>spiffe://td/ns/&lt;ns&gt;/sa/&lt;sa&gt;</c>, validating the result.</summary>
    public static SpiffeIdError TryCreateIstio(TrustDomain trustDomain, string ns, string serviceAccount, out SpiffeId id)
    {
        id = default;
        if (trustDomain.IsEmpty) return SpiffeIdError.MissingTrustDomain;
        return TryParse(Scheme + trustDomain.Name + "/ns/" + ns + "/sa/" + serviceAccount, out id);
    }

    /// <summary>
    /// Reads namespace and service account from an Istio identity path <c>/ns/&lt;ns&gt;/sa/&lt;sa&gt;</c>
    /// (exactly four segments, as Istio's <c>spiffe.ParseIdentity</c> expects); false for any other shape.
    /// </summary>
    public bool TryGetIstioIdentity(out string ns, out string serviceAccount)
    {
        ns = serviceAccount = "";
        var path = Path;
        if (!path.StartsWith("/ns/")) return false;
        var afterNs = path[4..];
        var slash = afterNs.IndexOf('/');
        if (slash <= 0) return false;
        var tail = afterNs[slash..];
        if (!tail.StartsWith("/sa/")) return false;
        var sa = tail[4..];
        if (sa.IsEmpty || sa.Contains('/')) return false;
        ns = afterNs[..slash].ToString();
        serviceAccount = sa.ToString();
        return true;
    }

    /// <summary>
    /// The principal as Istio's AuthorizationPolicy writes it: the ID without <c>spiffe://</c> (<c>td/ns/x/sa/y</c>).
    /// </summary>
    public string Principal => _value is null ? "" : _value[Scheme.Length..];

    public bool Equals(SpiffeId other) => string.Equals(_value, other._value, StringComparison.Ordinal);
    public override bool Equals(object? obj) => obj is SpiffeId other && Equals(other);
    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);
    public static bool operator ==(SpiffeId left, SpiffeId right) => left.Equals(right);
    public static bool operator !=(SpiffeId left, SpiffeId right) => !left.Equals(right);
    public override string ToString() => _value ?? "";
}
