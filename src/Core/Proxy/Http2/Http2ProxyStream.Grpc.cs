using System.Buffers;
using Sidecar.Core.Http;
using Sidecar.Core.Http1;

namespace Sidecar.Core.Proxy.Http2;

/// <summary>Local replies to gRPC requests, and the replies path normalization itself decides.</summary>
internal sealed partial class Http2ProxyStream
{
    /// <summary>
    /// Envoy answers a gRPC request's local reply as a trailers-only response (gRPC over HTTP/2, "Responses"):
    /// :status 200, content-type application/grpc, grpc-status mapped from the HTTP status as gRPC's
    /// http-grpc-status-mapping says (Envoy's <c>Grpc::Utility::httpToGrpcStatus</c>), grpc-message the reply's text,
    /// percent-encoded. A deadline taken from grpc-timeout (max_stream_duration) answers DEADLINE_EXCEEDED instead.
    /// </summary>
    private async ValueTask<bool> ReplyGrpcLocalAsync(ProxyError error)
    {
        int httpStatus = LocalReply.StatusCode(error, Http1Error.None);
        bool deadline = error == ProxyError.UpstreamRequestTimeout && _adjust.Clock.Expired == DeadlineExpiry.StreamDuration;
        int grpcStatus = deadline ? 4 : GrpcStatusOf(httpStatus);
        ReadOnlySpan<byte> message = deadline ? "downstream duration timeout"u8 : LocalReply.BodyOf(error, Http1Error.None);
        Chain.Stats.CountResponse(200);
        IBufferWriter<byte>? block = _connection.BeginHeaders(this);
        if (block is null) return false;
        var enc = _connection.Writer.Encoder;
        Http2Fields.Status(enc, block, 200);
        enc.Encode("content-type"u8, "application/grpc"u8, false, block);
        Http2Fields.Number(enc, block, "grpc-status"u8, grpcStatus);
        if (!message.IsEmpty)
        {
            Span<byte> encoded = stackalloc byte[message.Length * 3];
            enc.Encode("grpc-message"u8, encoded[..PercentEncode(message, encoded)], false, block);
        }
        enc.Encode("x-sidecar-response-flags"u8, error.ShortNameUtf8(), false, block);
        enc.Encode("server"u8, Chain.ServerName, false, block);
        _connection.EndHeaders(this, endStream: true);
        await _connection.FlushAsync();
        return true;
    }

    /// <summary>gRPC's HTTP-to-gRPC status mapping as Envoy applies it to local replies.</summary>
    internal static int GrpcStatusOf(int httpStatus) => httpStatus switch
    {
        400 => 13, // INTERNAL
        401 => 16, // UNAUTHENTICATED
        403 => 7, // PERMISSION_DENIED
        404 => 12, // UNIMPLEMENTED
        429 or 502 or 503 or 504 => 14, // UNAVAILABLE
        _ => 2, // UNKNOWN
    };

    /// <summary>grpc-message encoding: bytes outside printable ASCII, and '%', as %XX (gRPC over HTTP/2, "Responses").</summary>
    private static int PercentEncode(ReadOnlySpan<byte> text, Span<byte> output)
    {
        int w = 0;
        foreach (byte b in text)
        {
            if (b is >= 0x20 and <= 0x7e && b != (byte)'%')
            {
                output[w++] = b;
                continue;
            }
            output[w++] = (byte)'%';
            output[w++] = (byte)"0123456789ABCDEF"[b >> 4];
            output[w++] = (byte)"0123456789ABCDEF"[b & 0xF];
        }
        return w;
    }

    /// <summary>A path normalization cannot fix is 400; UNESCAPE_AND_REDIRECT answers 307 to the unescaped path.</summary>
    private async ValueTask<bool> ReplyNormalizationAsync(PathNormalizeResult result)
    {
        if (result == PathNormalizeResult.Redirect)
        {
            Chain.Stats.RqRedirect.Increment();
            return await ReplyConfiguredAsync(307, _adjust.RedirectLocation(), default);
        }
        await ReplyLocalAsync(ProxyError.BadRequest);
        return true;
    }
}
