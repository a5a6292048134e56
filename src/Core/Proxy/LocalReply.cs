using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using Sidecar.Core.Http1;

namespace Sidecar.Core.Proxy;

/// <summary>
/// The one place that turns a failure into a response: status, Envoy response flag (in the
/// <c>x-sidecar-response-flags</c> header, since Envoy only shows it in access logs), and body text
/// matching Envoy's local replies. Writes straight into the downstream pipe; allocation-free.
/// </summary>
public static class LocalReply
{
    public const string FlagsHeader = "x-sidecar-response-flags";

    public static int StatusCode(ProxyError error, Http1Error codecError) => error switch
    {
        ProxyError.BadRequest => codecError.ToStatusCode(),
        ProxyError.NoRoute => 404,
        ProxyError.NoCluster => 503,
        ProxyError.NoHealthyUpstream => 503,
        ProxyError.UpstreamConnectFailure => 503,
        ProxyError.UpstreamOverflow => 503,
        ProxyError.UpstreamConnectionTermination => 503,
        ProxyError.UpstreamRetryLimitExceeded => 503,
        ProxyError.UpstreamProtocolError => 502,
        ProxyError.UpstreamRequestTimeout => 504,
        ProxyError.RequestHeadersTimeout => 408,
        ProxyError.StreamIdleTimeout => 408,
        ProxyError.RequestBodyTooLarge => 413,
        ProxyError.UpgradeFailed => 403,
        _ => 500,
    };

    private static ReadOnlySpan<byte> Body(ProxyError error) => error switch
    {
        ProxyError.NoHealthyUpstream => "no healthy upstream"u8,
        ProxyError.UpstreamConnectFailure => "upstream connect error or disconnect/reset before headers. reset reason: connection failure"u8,
        ProxyError.UpstreamConnectionTermination => "upstream connect error or disconnect/reset before headers. reset reason: connection termination"u8,
        ProxyError.UpstreamOverflow => "upstream connect error or disconnect/reset before headers. reset reason: overflow"u8,
        ProxyError.UpstreamRetryLimitExceeded => "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: connection failure"u8,
        ProxyError.UpstreamProtocolError => "upstream connect error or disconnect/reset before headers. reset reason: protocol error"u8,
        ProxyError.UpstreamRequestTimeout => "upstream request timeout"u8,
        ProxyError.RequestHeadersTimeout => "request timeout"u8,
        ProxyError.StreamIdleTimeout => "stream timeout"u8,
        ProxyError.NoCluster => "cluster not found"u8,
        ProxyError.RequestBodyTooLarge => "Payload Too Large"u8,
        _ => default,
    };

    /// <summary>The body text of a local reply (the same for every protocol).</summary>
    public static ReadOnlySpan<byte> BodyOf(ProxyError error, Http1Error codecError) =>
        error == ProxyError.BadRequest ? Describe(codecError) : Body(error);

    /// <summary>Writes a complete local reply (not flushed).</summary>
    public static void Write(PipeWriter output, ProxyError error, Http1Error codecError, bool close, ReadOnlySpan<byte> serverName)
    {
        int status = StatusCode(error, codecError);
        ReadOnlySpan<byte> body = error == ProxyError.BadRequest ? Describe(codecError) : Body(error);
        WriteStatusLine(output, status);
        WriteHeader(output, "content-length"u8, body.Length);
        if (!body.IsEmpty) WriteHeader(output, "content-type"u8, "text/plain"u8);
        WriteHeader(output, "x-sidecar-response-flags"u8, error.ShortNameUtf8());
        WriteHeader(output, "server"u8, serverName);
        if (close) WriteHeader(output, "connection"u8, "close"u8);
        output.Write("\r\n"u8);
        output.Write(body);
    }

    /// <summary>A configured direct_response or redirect (no flag header: these are not failures).</summary>
    public static void WriteResponse(PipeWriter output, int status, ReadOnlySpan<byte> location, ReadOnlySpan<byte> body, bool close, ReadOnlySpan<byte> serverName)
    {
        WriteStatusLine(output, status);
        if (!location.IsEmpty) WriteHeader(output, "location"u8, location);
        WriteHeader(output, "content-length"u8, body.Length);
        if (!body.IsEmpty) WriteHeader(output, "content-type"u8, "text/plain"u8);
        WriteHeader(output, "server"u8, serverName);
        if (close) WriteHeader(output, "connection"u8, "close"u8);
        output.Write("\r\n"u8);
        output.Write(body);
    }

    private static ReadOnlySpan<byte> Describe(Http1Error e) => e switch
    {
        Http1Error.HeadTooLarge => "Request Header Fields Too Large"u8,
        Http1Error.TooManyHeaders => "Request Header Fields Too Large"u8,
        Http1Error.BodyTooLarge => "Payload Too Large"u8,
        _ => "Bad Request"u8,
    };

    public static void WriteStatusLine(PipeWriter output, int status)
    {
        Span<byte> s = output.GetSpan(64);
        "HTTP/1.1 "u8.CopyTo(s);
        Utf8Formatter.TryFormat(status, s[9..], out int n);
        s[9 + n] = (byte)' ';
        ReadOnlySpan<byte> reason = ReasonPhrase(status);
        reason.CopyTo(s[(10 + n)..]);
        s[10 + n + reason.Length] = (byte)'\r';
        s[11 + n + reason.Length] = (byte)'\n';
        output.Advance(12 + n + reason.Length);
    }

    public static void WriteHeader(PipeWriter output, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Span<byte> s = output.GetSpan(name.Length + value.Length + 4);
        name.CopyTo(s);
        s[name.Length] = (byte)':';
        s[name.Length + 1] = (byte)' ';
        value.CopyTo(s[(name.Length + 2)..]);
        s[name.Length + 2 + value.Length] = (byte)'\r';
        s[name.Length + 3 + value.Length] = (byte)'\n';
        output.Advance(name.Length + value.Length + 4);
    }

    public static void WriteHeader(PipeWriter output, ReadOnlySpan<byte> name, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int n);
        WriteHeader(output, name, digits[..n]);
    }

    public static ReadOnlySpan<byte> ReasonPhrase(int status) => status switch
    {
        100 => "Continue"u8,
        101 => "Switching Protocols"u8,
        200 => "OK"u8,
        201 => "Created"u8,
        204 => "No Content"u8,
        301 => "Moved Permanently"u8,
        302 => "Found"u8,
        303 => "See Other"u8,
        304 => "Not Modified"u8,
        307 => "Temporary Redirect"u8,
        308 => "Permanent Redirect"u8,
        400 => "Bad Request"u8,
        403 => "Forbidden"u8,
        404 => "Not Found"u8,
        408 => "Request Timeout"u8,
        413 => "Payload Too Large"u8,
        429 => "Too Many Requests"u8,
        431 => "Request Header Fields Too Large"u8,
        500 => "Internal Server Error"u8,
        501 => "Not Implemented"u8,
        502 => "Bad Gateway"u8,
        503 => "Service Unavailable"u8,
        504 => "Gateway Timeout"u8,
        505 => "HTTP Version Not Supported"u8,
        _ => "Unknown"u8,
    };
}
