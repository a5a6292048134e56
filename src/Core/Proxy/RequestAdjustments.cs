using System.Buffers;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http;

namespace Sidecar.Core.Proxy;

/// <summary>
/// What the connection manager decides about one request before and after routing, kept beside the received head
/// (which stays as received): the normalized path (routing and forwarding both use it), whether the request is gRPC,
/// the deadlines for the upstream's answer (route timeout, grpc-timeout) and their clock, and the connection's client certificate for
/// x-forwarded-client-cert. One instance per HTTP/1.1 connection or pooled HTTP/2 stream, reset per request, so the
/// steady state allocates nothing (the path scratch is pooled and only rented when a path needs rewriting).
/// </summary>
internal sealed class RequestAdjustments : IDisposable
{
    private byte[]? _pathScratch;
    private int _pathLength;
    private bool _pathRewritten;

    /// <summary>The downstream connection's client certificate details; null when it is not mutual TLS.</summary>
    public ClientCertHeader? ClientCert { get; set; }

    /// <summary>The request's content-type says gRPC (Envoy then answers local replies as gRPC trailers-only responses).</summary>
    public bool IsGrpc { get; private set; }

    /// <summary>The deadline for the upstream's response head (zero = none), set by <see cref="ResolveDeadline"/>.</summary>
    public TimeSpan Deadline { get; private set; }

    /// <summary>The deadline is the stream duration taken from grpc-timeout: its expiry means DEADLINE_EXCEEDED.</summary>
    public bool DeadlineIsStreamDuration { get; private set; }

    /// <summary>The router's timeout (route timeout, or max_grpc_timeout's value): runs from the end of the request.</summary>
    public TimeSpan RouteTimeout { get; private set; }

    /// <summary>The stream duration from grpc-timeout (zero = none): runs from the request head.</summary>
    public TimeSpan StreamDuration { get; private set; }

    /// <summary>The running clock of these deadlines for the current request (see <see cref="StartClock"/>).</summary>
    public ResponseDeadline Clock { get; } = new();

    /// <summary>Starts a request: applies the connection manager's path options and notes whether it is gRPC.</summary>
    public PathNormalizeResult Begin<TRequest>(TRequest request, PathNormalization options)
        where TRequest : IRequestView, allows ref struct
    {
        int contentType = IndexOf(request, "content-type"u8);
        IsGrpc = contentType >= 0 && GrpcTimeout.IsGrpcContentType(request.GetHeaderValue(contentType));
        Deadline = TimeSpan.Zero;
        DeadlineIsStreamDuration = false;
        RouteTimeout = TimeSpan.Zero;
        StreamDuration = TimeSpan.Zero;
        // CONNECT's authority-form target (RFC 9112 §3.2.3) is no path: Envoy normalizes only a :path.
        ReadOnlySpan<byte> target = request.PathAndQuery;
        if (target.Length > 0 && target[0] != (byte)'/' && request.Method.SequenceEqual("CONNECT"u8))
        {
            options = PathNormalization.None;
        }
        PathNormalizeResult result = PathNormalizer.Normalize(target, options, ref _pathScratch, out _pathLength);
        _pathRewritten = result is PathNormalizeResult.Rewritten or PathNormalizeResult.Redirect;
        return result;
    }

    /// <summary>The path and query to route and forward: the normalized one, else <paramref name="received"/>.</summary>
    public ReadOnlySpan<byte> PathAndQuery(ReadOnlySpan<byte> received) =>
        _pathRewritten ? _pathScratch.AsSpan(0, _pathLength) : received;

    /// <summary>The normalized path as the Location of UNESCAPE_AND_REDIRECT's 307 (rare: copied).</summary>
    public byte[] RedirectLocation() => _pathScratch.AsSpan(0, _pathLength).ToArray();

    /// <summary>After routing: the deadline for the upstream's answer from the route timeout and the request's grpc-timeout.</summary>
    public void ResolveDeadline<TRequest>(RouteActionModel action, TRequest request)
        where TRequest : IRequestView, allows ref struct
    {
        if (action.GrpcTimeout.Kind == GrpcTimeoutKind.None)
        {
            Deadline = action.Timeout;
            DeadlineIsStreamDuration = false;
            RouteTimeout = action.Timeout;
            StreamDuration = TimeSpan.Zero;
            return;
        }
        int index = IndexOf(request, "grpc-timeout"u8);
        Deadline = GrpcTimeout.Deadline(action, IsGrpc, index >= 0, index >= 0 ? request.GetHeaderValue(index) : default, out bool streamDuration);
        DeadlineIsStreamDuration = streamDuration;
        // A stream duration is the shorter of the two; the route timeout (longer, or none) still applies beside it,
        // from a later start (Envoy: the connection manager's stream timer and the router's timer are separate).
        RouteTimeout = streamDuration ? action.Timeout : Deadline;
        StreamDuration = streamDuration ? Deadline : TimeSpan.Zero;
    }

    /// <summary>
    /// Starts <see cref="Clock"/> for the routed request: <paramref name="requestComplete"/> when nothing follows the head
    /// (the route timeout starts at once), else the body's reader calls <see cref="ResponseDeadline.RequestComplete"/>.
    /// The route's idle_timeout, else the manager's <paramref name="streamIdleTimeout"/>, bounds the gaps between
    /// request-body reads meanwhile.
    /// </summary>
    public void StartClock(RouteActionModel action, TimeSpan streamIdleTimeout, bool requestComplete) =>
        Clock.BeginRequest(RouteTimeout, StreamDuration, action.IdleTimeout > TimeSpan.Zero ? action.IdleTimeout : streamIdleTimeout, requestComplete);

    /// <summary>What to do with x-forwarded-client-cert on this request under <paramref name="hcm"/>'s settings.</summary>
    public XfccAction Xfcc(HttpConnectionManagerModel hcm) => ClientCertHeader.Decide(hcm.ForwardClientCert, ClientCert);

    /// <summary>Our XFCC element (only for <see cref="XfccAction.Append"/> and <see cref="XfccAction.Set"/>).</summary>
    public byte[] XfccElement(HttpConnectionManagerModel hcm) => ClientCert!.Element(hcm.ClientCertDetails);

    /// <summary>The x-envoy-expected-rq-timeout-ms value: the route's own timeout, or the one grpc-timeout replaced it with.</summary>
    public TimeSpan ExpectedTimeout(RouteActionModel action) => DeadlineIsStreamDuration ? action.Timeout : Deadline;

    private static int IndexOf<TRequest>(TRequest request, ReadOnlySpan<byte> lowerName)
        where TRequest : IRequestView, allows ref struct
    {
        for (int i = 0; i < request.HeaderCount; i++)
        {
            ReadOnlySpan<byte> name = request.GetHeaderName(i);
            if (name.Length == lowerName.Length && System.Text.Ascii.EqualsIgnoreCase(name, lowerName)) return i;
        }
        return -1;
    }

    public void Dispose()
    {
        byte[]? scratch = _pathScratch;
        _pathScratch = null;
        _pathRewritten = false;
        if (scratch is not null) ArrayPool<byte>.Shared.Return(scratch);
    }
}

/// <summary>
/// A request head seen with its normalized path: what routing (path and ":path" header matchers) and redirects read.
/// A ref struct over the received head, so nothing is copied or boxed.
/// </summary>
internal readonly ref struct AdjustedRequest<THead> : IRequestView
    where THead : IRequestView
{
    private readonly THead _head;
    private readonly ReadOnlySpan<byte> _pathAndQuery;

    public AdjustedRequest(THead head, RequestAdjustments adjustments)
    {
        _head = head;
        _pathAndQuery = adjustments.PathAndQuery(head.PathAndQuery);
    }

    public ReadOnlySpan<byte> Authority => _head.Authority;
    public ReadOnlySpan<byte> PathAndQuery => _pathAndQuery;
    public ReadOnlySpan<byte> Method => _head.Method;
    public int HeaderCount => _head.HeaderCount;
    public ReadOnlySpan<byte> GetHeaderName(int index) => _head.GetHeaderName(index);
    public ReadOnlySpan<byte> GetHeaderValue(int index) => _head.GetHeaderValue(index);
}
