using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Sidecar.Core.Async;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http;
using Sidecar.Core.Http1;
using Sidecar.Core.Lifecycle;
using Sidecar.Core.Pools;

namespace Sidecar.Core.Proxy;

/// <summary>
/// One downstream HTTP/1.1 connection through an http_connection_manager chain.
/// <list type="number">
/// <item>Read and parse a request head (idle timeout, then request_headers_timeout once bytes arrive).</item>
/// <item>Match a route on the snapshot taken for this connection.</item>
/// <item>Answer locally (direct_response, redirect, errors) or run an upstream exchange (<c>.Exchange.cs</c>).</item>
/// <item>Loop for keep-alive and pipelining until close, drain or timeout.</item>
/// </list>
/// All of it runs as one async flow per connection, so steady-state requests allocate nothing:
/// buffers are pooled, heads are reused, deadlines are fields read by the <see cref="Heartbeat"/>.
/// </summary>
internal sealed partial class Http1ProxySession : IHeartbeatTarget, IDisposable
{
    private readonly ConnectionContext _downstream;
    private readonly PipeReader _in;
    private readonly PipeWriter _out;
    private HttpChainRuntime _chain;
    private readonly ProxyServices _services;
    private readonly Http1Head _request = new();
    private readonly Http1Head _response = new();
    private readonly RequestAdjustments _adjust = new();
    private readonly byte[] _clientAddress;
    private ChunkedDecoder _requestChunks;
    private ChunkedDecoder _responseChunks;

    // Deadline state, written by the session and read by the heartbeat thread.
    private long _deadline = long.MaxValue;
    private PipeReader? _waitingReader;
    private PipeWriter? _waitingWriter;
    // _armGeneration is written by the session only; the heartbeat records which arming it timed out.
    private long _armGeneration;
    private long _timedOutGeneration = -1;
    private volatile bool _idle;
    private volatile UpstreamConnection? _activeUpstream;
    private bool _forwardUpgrade;

    private readonly IPEndPoint? _originalDestination;

    public Http1ProxySession(ConnectionContext downstream, HttpChainRuntime chain, ProxyServices services, IPEndPoint? originalDestination = null)
    {
        _originalDestination = originalDestination;
        _downstream = downstream;
        _in = downstream.Transport.Input;
        _out = downstream.Transport.Output;
        _chain = chain;
        _services = services;
        _adjust.ClientCert = ClientCertHeader.For(downstream);
        _clientAddress = downstream.RemoteEndPoint is IPEndPoint ip
            ? System.Text.Encoding.ASCII.GetBytes(ip.Address.ToString())
            : "unknown"u8.ToArray();
    }

    private HttpConnectionManagerModel Hcm => _chain.Model;

    public async Task RunAsync()
    {
        var stats = _chain.Stats;
        stats.DownstreamCxTotal.Increment();
        stats.DownstreamCxHttp1Total.Increment();
        stats.DownstreamCxActive.Increment();
        _services.Heartbeat.Register(this);
        using var drainRegistration = _services.Drain.Graceful.UnsafeRegister(static s => ((Http1ProxySession)s!).OnDrain(), this);
        using var forceRegistration = _services.Drain.Force.UnsafeRegister(static s => ((Http1ProxySession)s!).OnForce(), this);
        try
        {
            // Drain is handled where the connection waits for its next request (a 1 s grace, then close):
            // leaving here instead would close a connection whose last response promised keep-alive.
            while (true)
            {
                // :: Step 1 — request head. Read here rather than in a nested async method: this is where every
                // keep-alive connection waits, and each async level costs a box, a registration and a resume.
                BeginRequestHead();
                HeadStep head;
                do
                {
                    ReadResult read = await _in.ReadAsync();
                    head = OnRequestHeadRead(read);
                }
                while (head == HeadStep.Pending);
                EndRequestHead();
                if (head == HeadStep.Reply)
                {
                    await ReplyErrorAndCloseAsync(_headError, _headCodecError);
                    break;
                }
                if (head == HeadStep.Closed) break;

                stats.DownstreamRqTotal.Increment();
                stats.DownstreamRqHttp1Total.Increment();
                stats.DownstreamRqActive.Increment();
                bool keepAlive;
                try
                {
                    keepAlive = await HandleRequest();
                }
                finally
                {
                    stats.DownstreamRqActive.Decrement();
                }
                if (!keepAlive) break;
            }
        }
        catch (ConnectionResetException)
        {
            stats.DownstreamRqRxReset.Increment();
        }
        catch (IOException)
        {
            stats.DownstreamRqRxReset.Increment();
        }
        catch (OperationCanceledException)
        {
            // Forced shutdown or abort.
        }
        finally
        {
            _services.Heartbeat.Unregister(this);
            UpstreamConnection? up = _activeUpstream;
            if (up is not null) await up.DisposeAsync();
            stats.DownstreamCxActive.Decrement();
            stats.DownstreamCxDestroy.Increment();
            Dispose();
        }
    }

    public void Dispose()
    {
        _request.Dispose();
        _response.Dispose();
        _adjust.Dispose();
    }

    private enum HeadStep : byte { Pending, Ready, Closed, Reply }

    // Request-head reading state between reads (see OnRequestHeadRead).
    private bool _sawRequestBytes;
    private ProxyError _headError;
    private Http1Error _headCodecError;

    /// <summary>Before waiting for a request head: the idle timeout (or the drain's grace) runs until its first byte.</summary>
    private void BeginRequestHead()
    {
        _request.Reset();
        _sawRequestBytes = false;
        _idle = true;
        Arm(_services.Drain.IsDraining ? DrainIdleGrace : Hcm.IdleTimeout, _in, null);
    }

    private void EndRequestHead()
    {
        _idle = false;
        Disarm();
    }

    /// <summary>
    /// One read's worth of request-head parsing. <see cref="HeadStep.Reply"/>: answer 400/408/431 (in
    /// <see cref="_headError"/>) and close; <see cref="HeadStep.Closed"/>: close without an answer.
    /// </summary>
    private HeadStep OnRequestHeadRead(in ReadResult r)
    {
        ReadOnlySequence<byte> buffer = r.Buffer;
        if (r.IsCanceled)
        {
            if (TimedOut && _sawRequestBytes)
            {
                _in.AdvanceTo(buffer.Start);
                _chain.Stats.DownstreamRqHeaderTimeout.Increment();
                return ReplyAndClose(ProxyError.RequestHeadersTimeout, Http1Error.None);
            }
            if (buffer.IsEmpty)
            {
                _in.AdvanceTo(buffer.Start);
                // Idle and nothing received: the idle timeout, or the drain's grace period, ended.
                if (!TimedOut) return HeadStep.Pending;
                if (!_services.Drain.IsDraining) _chain.Stats.DownstreamCxIdleTimeout.Increment();
                return HeadStep.Closed;
            }
            // Bytes of a request arrived together with the cancel: serve it (with connection: close when draining).
        }

        var reader = new SequenceReader<byte>(buffer);
        Http1ParseStatus status = Http1HeadParser.ParseRequest(ref reader, _request, _chain.Limits, out Http1Error error);
        if (status == Http1ParseStatus.Complete)
        {
            _in.AdvanceTo(reader.Position);
            // A config update published since the last request (RDS, clusters) applies from this one on.
            _chain = _chain.Latest;
            return HeadStep.Ready;
        }
        if (status == Http1ParseStatus.Error)
        {
            _in.AdvanceTo(buffer.End);
            _chain.Stats.DownstreamCxProtocolError.Increment();
            return ReplyAndClose(ProxyError.BadRequest, error);
        }
        if (!_sawRequestBytes && !buffer.IsEmpty)
        {
            // request_headers_timeout runs from the first byte of a request (Envoy semantics).
            _sawRequestBytes = true;
            _idle = false;
            Arm(Hcm.EffectiveRequestHeadersTimeout, _in, null);
        }
        _in.AdvanceTo(reader.Position, buffer.End);
        return r.IsCompleted ? HeadStep.Closed : HeadStep.Pending;
    }

    private HeadStep ReplyAndClose(ProxyError error, Http1Error codecError)
    {
        _headError = error;
        _headCodecError = codecError;
        return HeadStep.Reply;
    }

    /// <summary>
    /// Routes one parsed request and produces its response. Returns whether the connection stays open.
    /// Not itself async: each branch hands back the ValueTask of the step that finishes it, so a proxied
    /// request suspends and resumes through one async level fewer.
    /// </summary>
    private ValueTask<bool> HandleRequest()
    {
        // Explicit body limit (buffer filter's max_request_bytes): refuse before anything is forwarded.
        if (Hcm.MaxRequestBodyBytes > 0 && _request.Framing == BodyFraming.ContentLength && _request.ContentLength > Hcm.MaxRequestBodyBytes)
        {
            return RefuseAndCloseAsync(ProxyError.BadRequest, Http1Error.BodyTooLarge);
        }

        // :: Step 2 — path normalization (normalize_path, merge_slashes, escaped slashes), then route on this connection's snapshot
        PathNormalizeResult path = _adjust.Begin(_request, Hcm.PathNormalization);
        if (path == PathNormalizeResult.Reject) return ReplyLocalAsync(ProxyError.BadRequest);
        if (path == PathNormalizeResult.Redirect) return SkipBodyThenReplyAsync(307, _adjust.RedirectLocation(), default);
        RouteModel? route = Route(out VirtualHostModel? vhost);
        if (route is null)
        {
            _chain.Stats.NoRoute.Increment();
            return ReplyLocalAsync(ProxyError.NoRoute);
        }
        if (route.DirectResponse is { } direct)
        {
            _chain.Stats.RqDirectResponse.Increment();
            return SkipBodyThenReplyAsync(direct.Status, default, direct.Body);
        }
        if (route.Redirect is { } redirect)
        {
            _chain.Stats.RqRedirect.Increment();
            byte[] location = RedirectBuilder.Build(redirect, new AdjustedRequest<Http1Head>(_request, _adjust));
            return SkipBodyThenReplyAsync(redirect.ResponseCode, location, default);
        }

        // :: Step 3 — upgrades and CONNECT as the route allows them, then forward upstream
        RouteActionModel action = route.Action!;
        _adjust.ResolveDeadline(action, _request);
        // The route timeout starts when the request is complete: now for a bodyless one, else when its body has been read.
        // Meanwhile the route's idle_timeout (else stream_idle_timeout) bounds a client that stops sending it.
        _adjust.StartClock(action, Hcm.StreamIdleTimeout, requestComplete: _request.Framing == BodyFraming.None);
        _forwardUpgrade = false;
        if (_request.IsConnect)
        {
            if (!action.AllowConnect) return ReplyLocalAsync(ProxyError.UpgradeFailed);
            if (action.TerminateConnect) return TerminateConnectAsync(action);
        }
        else if (_request.IsUpgradeRequest)
        {
            ReadOnlySpan<byte> protocol = _request.GetHeaderValue(_request.UpgradeIndex);
            if (System.Text.Ascii.EqualsIgnoreCase(protocol, "websocket"u8))
            {
                if (!action.AllowWebSocket) return ReplyLocalAsync(ProxyError.UpgradeFailed);
                _forwardUpgrade = true;
            }
            else if (!System.Text.Ascii.EqualsIgnoreCase(protocol, "h2c"u8))
            {
                return ReplyLocalAsync(ProxyError.UpgradeFailed);
            }
            // "Upgrade: h2c" is dropped and the request proxied as plain HTTP/1.1, as Envoy does.
        }
        return ExchangeAsync(route, vhost!, action);
    }

    /// <summary>A configured local answer (direct_response, redirect) after the request body is read and dropped.</summary>
    private async ValueTask<bool> SkipBodyThenReplyAsync(int status, ReadOnlyMemory<byte> location, ReadOnlyMemory<byte> body)
    {
        if (!await SkipRequestBodyAsync()) return false;
        return await ReplyConfiguredAsync(status, location, body);
    }

    private async ValueTask<bool> RefuseAndCloseAsync(ProxyError error, Http1Error codecError)
    {
        await ReplyErrorAndCloseAsync(error, codecError);
        return false;
    }

    private RouteModel? Route(out VirtualHostModel? vhost)
    {
        var request = new AdjustedRequest<Http1Head>(_request, _adjust);
        return _chain.Routes.Match(ref request, out vhost);
    }

    private bool ShouldClose => !_request.KeepAlive || _services.Drain.IsDraining;

    private async ValueTask<bool> ReplyLocalAsync(ProxyError error)
    {
        bool close = ShouldClose || _request.Framing != BodyFraming.None;
        LocalReply.Write(_out, error, Http1Error.None, close, _chain.ServerName);
        _chain.Stats.CountResponse(LocalReply.StatusCode(error, Http1Error.None));
        FlushResult f = await _out.FlushAsync();
        return !close && !f.IsCompleted;
    }

    private async ValueTask<bool> ReplyConfiguredAsync(int status, ReadOnlyMemory<byte> location, ReadOnlyMemory<byte> body)
    {
        bool close = ShouldClose;
        LocalReply.WriteResponse(_out, status, location.Span, body.Span, close, _chain.ServerName);
        _chain.Stats.CountResponse(status);
        FlushResult f = await _out.FlushAsync();
        return !close && !f.IsCompleted;
    }

    private async ValueTask ReplyErrorAndCloseAsync(ProxyError error, Http1Error codecError)
    {
        LocalReply.Write(_out, error, codecError, close: true, _chain.ServerName);
        _chain.Stats.CountResponse(LocalReply.StatusCode(error, codecError));
        await _out.FlushAsync();
    }

    // ---- deadlines (read by the heartbeat) ----

    /// <summary>True when the heartbeat expired the deadline armed last (not an earlier one).</summary>
    private bool TimedOut => Volatile.Read(ref _timedOutGeneration) == Volatile.Read(ref _armGeneration);

    private void Arm(TimeSpan timeout, PipeReader? reader, PipeWriter? writer)
    {
        Volatile.Write(ref _armGeneration, _armGeneration + 1);
        _waitingReader = reader;
        _waitingWriter = writer;
        Volatile.Write(ref _deadline, timeout > TimeSpan.Zero ? Environment.TickCount64 + (long)timeout.TotalMilliseconds : long.MaxValue);
    }

    private void Disarm()
    {
        Volatile.Write(ref _deadline, long.MaxValue);
        _waitingReader = null;
        _waitingWriter = null;
    }

    public void OnHeartbeat(long nowMs)
    {
        // The response-head clock has its own claim and cancels the upstream read itself (see ResponseDeadline); it
        // runs beside the deadline below.
        _adjust.Clock.TryExpire(nowMs);
        long generation = Volatile.Read(ref _armGeneration);
        long deadline = Volatile.Read(ref _deadline);
        if (nowMs < deadline) return;
        // Claim this expiry only if the session has not re-armed meanwhile; a cancel that still lands on
        // a later wait is not marked as a timeout (generation check) and the wait simply resumes.
        if (Interlocked.CompareExchange(ref _deadline, long.MaxValue, deadline) != deadline) return;
        Volatile.Write(ref _timedOutGeneration, generation);
        _waitingReader?.CancelPendingRead();
        _waitingWriter?.CancelPendingFlush();
    }

    /// <summary>How long an idle keep-alive connection may still bring a request after drain starts.</summary>
    private static readonly TimeSpan DrainIdleGrace = TimeSpan.FromSeconds(1);

    private void OnDrain()
    {
        // Closing an idle keep-alive connection at once races with a request already on the wire
        // (the client sees a reset). Instead it gets a short grace: a request that arrives is served
        // with "connection: close"; one that does not closes the connection when the grace ends.
        // A busy connection closes after its current response.
        if (_idle)
        {
            long graceEnd = Environment.TickCount64 + (long)DrainIdleGrace.TotalMilliseconds;
            long deadline = Volatile.Read(ref _deadline);
            // CAS: if the connection just became busy and re-armed, its new deadline stands.
            if (graceEnd < deadline) Interlocked.CompareExchange(ref _deadline, graceEnd, deadline);
        }
    }

    private void OnForce()
    {
        _activeUpstream?.Abort();
        _downstream.Abort();
    }
}
