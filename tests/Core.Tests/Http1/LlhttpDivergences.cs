namespace Sidecar.Core.Tests.Http1;

internal enum DivergenceKind
{
    /// <summary>We reject what llhttp accepts. Checked: ours is an error, llhttp's is not.</summary>
    Stricter,
    /// <summary>We accept what llhttp rejects. Checked: ours is not an error, llhttp's is.</summary>
    MorePermissive,
    /// <summary>
    /// llhttp rejects a byte of a line that never ends in the input; our parser is line-granular and
    /// waits for the LF. Checked: with CRLF CRLF appended we reject in the same message.
    /// </summary>
    LineGranular,
}

internal readonly record struct Divergence(DivergenceKind Kind, string Reason);

/// <summary>
/// Strict llhttp cases where our result is expected to differ, each with the reason. Keys are
/// "file#heading". A listed case that starts agreeing fails the run too, so this list stays honest.
/// </summary>
internal static class LlhttpDivergences
{
    private const string NotHttp = "llhttp also speaks RTSP/ICE; a HTTP proxy accepts only HTTP-version = \"HTTP/\" DIGIT \".\" DIGIT (RFC 9112 §2.3)";
    private const string ExtensionMethod = "method = token (RFC 9110 §9.1); a proxy forwards extension methods, llhttp knows a fixed method table";
    private const string Http09 = "HTTP/0.9 is not HTTP/1.x: RFC 9112 §2.3 versions only; we answer 505/502 instead of guessing framing";

    public static readonly IReadOnlyDictionary<string, Divergence> Expected = new Dictionary<string, Divergence>(StringComparer.Ordinal)
    {
        ["request/content-length.md#Missing CRLF-CRLF before body"] = new(DivergenceKind.LineGranular,
            "input ends inside the line \"\\rabc\"; a bare CR in a field line is rejected once the line ends (RFC 9112 §2.2)"),
        ["request/invalid.md#Invalid HTTP version"] = new(DivergenceKind.LineGranular,
            "request line \"GET / HTTP/5.6\" has no CRLF in the input; complete, it is rejected 505 (RFC 9112 §2.3)"),
        ["request/invalid.md#Invalid space after start line"] = new(DivergenceKind.LineGranular,
            "\" Host: foo\" never ends; complete, whitespace before the first field line is rejected (RFC 9112 §2.2, §5.2)"),
        ["response/invalid.md#Invalid space after start line"] = new(DivergenceKind.LineGranular,
            "\" Host: foo\" never ends; complete, whitespace before the first field line is rejected (RFC 9112 §2.2, §5.2)"),

        ["request/invalid.md#HTTP protocol and ANNOUNCE method"] = new(DivergenceKind.MorePermissive, ExtensionMethod),
        ["request/invalid.md#Invalid method"] = new(DivergenceKind.MorePermissive, ExtensionMethod + " (\"MKCOLA\" is a valid token)"),

        ["request/method.md#M-SEARCH request"] = new(DivergenceKind.Stricter,
            "asterisk-form is only for a server-wide OPTIONS (RFC 9112 §3.2.4); SSDP's \"M-SEARCH *\" is multicast, never proxied"),
        ["request/method.md#SOURCE request with ICE"] = new(DivergenceKind.Stricter, NotHttp),
        ["request/method.md#OPTIONS request with RTSP"] = new(DivergenceKind.Stricter, NotHttp),
        ["request/method.md#ANNOUNCE request with RTSP"] = new(DivergenceKind.Stricter, NotHttp),
        ["response/sample.md#RTSP response"] = new(DivergenceKind.Stricter, NotHttp),
        ["response/sample.md#ICE response"] = new(DivergenceKind.Stricter, NotHttp),
        ["request/method.md#PRI request HTTP2"] = new(DivergenceKind.Stricter,
            "the HTTP/2 preface is not an HTTP/1.1 request (asterisk-form without OPTIONS, version 2.0 → 505); prior-knowledge h2c is detected by the listener before the HTTP/1 codec"),
        ["request/sample.md#No HTTP version"] = new(DivergenceKind.Stricter, Http09),
        ["response/sample.md#HTTP version 0.9"] = new(DivergenceKind.Stricter, Http09),
    };

    /// <summary>
    /// llhttp lenient-mode cases (opt-in leniencies) whose input we accept, with why that input is
    /// valid without the leniency. Every other lenient case must be rejected by us.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> LenientAccepted = new Dictionary<string, string>(StringComparer.Ordinal)
    {
    };
}
