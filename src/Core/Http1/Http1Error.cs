namespace Sidecar.Core.Http1;

/// <summary>
/// Why a message head or body was rejected. Returned (not thrown) by the codec; the proxy maps it
/// to a status code in one place (<see cref="Http1ErrorExtensions.ToStatusCode"/>).
/// </summary>
public enum Http1Error : byte
{
    None = 0,
    InvalidRequestLine,
    InvalidMethod,
    InvalidRequestTarget,
    InvalidVersion,
    UnsupportedVersion,
    InvalidStatusLine,
    InvalidHeaderName,
    InvalidHeaderValue,
    /// <summary>RFC 9112 §5.1: no whitespace is allowed between the field name and colon.</summary>
    WhitespaceBeforeColon,
    /// <summary>RFC 9112 §5.2: obs-fold is deprecated; a server may reject it with 400.</summary>
    ObsoleteLineFolding,
    /// <summary>RFC 9112 §2.2: a bare LF is not a valid line terminator in a strict parser.</summary>
    BareLineFeed,
    HeadTooLarge,
    TooManyHeaders,
    InvalidContentLength,
    DuplicateContentLength,
    /// <summary>RFC 9112 §6.1: Transfer-Encoding and Content-Length together is a smuggling shape.</summary>
    ContentLengthWithTransferEncoding,
    UnsupportedTransferEncoding,
    TransferEncodingInHttp10,
    MissingHost,
    DuplicateHost,
    InvalidChunkSize,
    InvalidChunkExtension,
    InvalidChunkTerminator,
    InvalidTrailer,
    BodyTooLarge,
    UnexpectedEndOfInput,
}

public static class Http1ErrorExtensions
{
    public static int ToStatusCode(this Http1Error error) => error switch
    {
        Http1Error.HeadTooLarge or Http1Error.TooManyHeaders => 431,
        Http1Error.UnsupportedVersion => 505,
        Http1Error.UnsupportedTransferEncoding => 501,
        Http1Error.BodyTooLarge => 413,
        _ => 400,
    };

    public static string Describe(this Http1Error error) => error switch
    {
        Http1Error.InvalidRequestLine => "invalid request line",
        Http1Error.InvalidMethod => "invalid method",
        Http1Error.InvalidRequestTarget => "invalid request target",
        Http1Error.InvalidVersion => "invalid HTTP version",
        Http1Error.UnsupportedVersion => "unsupported HTTP version",
        Http1Error.InvalidStatusLine => "invalid status line",
        Http1Error.InvalidHeaderName => "invalid header name",
        Http1Error.InvalidHeaderValue => "invalid header value",
        Http1Error.WhitespaceBeforeColon => "whitespace before colon",
        Http1Error.ObsoleteLineFolding => "obsolete line folding",
        Http1Error.BareLineFeed => "bare LF",
        Http1Error.HeadTooLarge => "headers too large",
        Http1Error.TooManyHeaders => "too many headers",
        Http1Error.InvalidContentLength => "invalid content-length",
        Http1Error.DuplicateContentLength => "duplicate content-length",
        Http1Error.ContentLengthWithTransferEncoding => "content-length with transfer-encoding",
        Http1Error.UnsupportedTransferEncoding => "unsupported transfer-encoding",
        Http1Error.TransferEncodingInHttp10 => "transfer-encoding in HTTP/1.0",
        Http1Error.MissingHost => "missing host",
        Http1Error.DuplicateHost => "duplicate host",
        Http1Error.InvalidChunkSize => "invalid chunk size",
        Http1Error.InvalidChunkExtension => "invalid chunk extension",
        Http1Error.InvalidChunkTerminator => "invalid chunk terminator",
        Http1Error.InvalidTrailer => "invalid trailer",
        Http1Error.BodyTooLarge => "body too large",
        Http1Error.UnexpectedEndOfInput => "unexpected end of input",
        _ => "ok",
    };
}
