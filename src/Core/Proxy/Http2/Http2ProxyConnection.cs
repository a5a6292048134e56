using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Sidecar.Core.Async;
using Sidecar.Core.Http2;
using Sidecar.Core.Lifecycle;

namespace Sidecar.Core.Proxy.Http2;

/// <summary>
/// One downstream HTTP/2 connection through an http_connection_manager chain (h2c with prior
/// knowledge, or h2 once TLS selects it by ALPN). The read loop is the base class's; each request
/// stream runs as its own async flow (<see cref="Http2ProxyStream"/>), started inline by the read loop.
/// </summary>
internal sealed class Http2ProxyConnection : Http2Connection, IHeartbeatTarget
{
    private readonly ConnectionContext _downstream;
    // No lock: streams are taken (AcceptStream, on HEADERS) and given back (Recycle, between read passes) only
    // by the read loop, so the pool is a single-thread structure.
    private readonly Stack<Http2ProxyStream> _pool = new();
    /// <summary>Recycled streams kept: as many as the client may open at once (up to 128, ~5 KB each), so a client that
    /// keeps that many in flight reuses them instead of allocating a stream per request.</summary>
    private int PoolCapacity => Math.Min(Options.MaxConcurrentStreams, 128);
    private readonly ReusableSignal _allStreamsDone = new();
    private int _runningStreams;
    private long _idleSinceMs = Environment.TickCount64;

    public Http2ProxyConnection(ConnectionContext downstream, HttpChainRuntime chain, ProxyServices services, IPEndPoint? originalDestination)
        : base(downstream.Transport.Input, downstream.Transport.Output, chain.Http2Options, chain.Http2Stats, isServer: true)
    {
        _downstream = downstream;
        Chain = chain;
        Services = services;
        OriginalDestination = originalDestination;
        ClientCert = ClientCertHeader.For(downstream);
        ClientAddress = downstream.RemoteEndPoint is IPEndPoint ip
            ? System.Text.Encoding.ASCII.GetBytes(ip.Address.ToString())
            : "unknown"u8.ToArray();
    }

    public HttpChainRuntime Chain { get; }
    public ProxyServices Services { get; }
    public IPEndPoint? OriginalDestination { get; }
    public byte[] ClientAddress { get; }
    /// <summary>The client certificate details for x-forwarded-client-cert (null unless mutual TLS), once per connection.</summary>
    public ClientCertHeader? ClientCert { get; }
    public Http2Output Writer => Output;

    /// <summary>Reads the client preface (RFC 9113 §3.4), then serves streams until the connection ends.</summary>
    public async Task ServeAsync()
    {
        var stats = Chain.Stats;
        stats.DownstreamCxTotal.Increment();
        stats.DownstreamCxHttp2Total.Increment();
        stats.DownstreamCxActive.Increment();
        Services.Heartbeat.Register(this);
        using var drain = Services.Drain.Graceful.UnsafeRegister(static s => ((Http2ProxyConnection)s!).SendGoAway(Http2ErrorCode.NoError), this);
        using var force = Services.Drain.Force.UnsafeRegister(static s => ((Http2ProxyConnection)s!).OnForce(), this);
        try
        {
            if (!await ReadPrefaceAsync())
            {
                stats.DownstreamCxProtocolError.Increment();
                return;
            }
            SendInitialSettings();
            await RunAsync();
            // Streams still finishing (their upstreams were told to stop) must not outlive the transport.
            while (Volatile.Read(ref _runningStreams) > 0) await _allStreamsDone.WaitAsync();
        }
        finally
        {
            Services.Heartbeat.Unregister(this);
            stats.DownstreamCxActive.Decrement();
            stats.DownstreamCxDestroy.Increment();
            while (_pool.TryPop(out Http2ProxyStream? s)) s.Dispose();
            Dispose();
        }
    }

    private async ValueTask<bool> ReadPrefaceAsync()
    {
        PipeReader input = _downstream.Transport.Input;
        byte[] head = new byte[24];
        while (true)
        {
            ReadResult r = await input.ReadAsync();
            ReadOnlySequence<byte> buffer = r.Buffer;
            int n = (int)Math.Min(buffer.Length, Http2Constants.ClientPreface.Length);
            buffer.Slice(0, n).CopyTo(head);
            if (!head.AsSpan(0, n).SequenceEqual(Http2Constants.ClientPreface[..n]))
            {
                input.AdvanceTo(buffer.End);
                return false;
            }
            if (n == Http2Constants.ClientPreface.Length)
            {
                input.AdvanceTo(buffer.GetPosition(n));
                return true;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (r.IsCompleted || r.IsCanceled) return false;
        }
    }

    protected override Http2Stream? AcceptStream(int streamId)
    {
        Http2ProxyStream stream;
        stream = _pool.TryPop(out Http2ProxyStream? s) ? s : new Http2ProxyStream(this);
        stream.Begin(streamId);
        return stream;
    }

    internal void StartStream(Http2ProxyStream stream, int streamId)
    {
        Interlocked.Increment(ref _runningStreams);
        Volatile.Write(ref _idleSinceMs, long.MaxValue);
        stream.Start(this, streamId, Options.InitialStreamWindowSize, PeerSettings.InitialWindowSize, Http2HeadKind.Request);
    }

    /// <summary>A stream's exchange finished; the last one out wakes the connection's shutdown.</summary>
    internal void OnStreamWorkDone(Http2ProxyStream stream)
    {
        CompleteStreamWork(stream);
        if (Interlocked.Decrement(ref _runningStreams) == 0)
        {
            Volatile.Write(ref _idleSinceMs, Environment.TickCount64);
            _allStreamsDone.Set();
        }
    }

    protected override void Recycle(Http2Stream stream)
    {
        var s = (Http2ProxyStream)stream;
        s.RecycleInbound();
        if (_pool.Count < PoolCapacity)
        {
            _pool.Push(s);
            return;
        }
        s.Dispose();
    }

    protected override Http2FrameError OnHeaderListTooLarge(Http2Stream stream)
    {
        // Envoy answers an oversized request head with 431 on that stream; the HPACK table is intact.
        ((Http2ProxyStream)stream).ReplyHeadersTooLarge();
        return default;
    }

    public void OnHeartbeat(long nowMs)
    {
        if (KeepaliveTick(nowMs))
        {
            // connection_keepalive on the connection manager: a client that stopped answering PINGs is gone.
            Stats.KeepaliveTimeout.Increment();
            OnForce();
            return;
        }
        Http2Stream[] open = RentStreams(out int n);
        long stallMs = (long)Chain.Model.StreamIdleTimeout.TotalMilliseconds;
        for (int i = 0; i < n; i++)
        {
            ((Http2ProxyStream)open[i]).OnHeartbeat(nowMs);
            if (stallMs > 0 && open[i].IsSendStalled(nowMs, stallMs)) ResetStalledStream(open[i]);
        }
        ArrayPool<Http2Stream>.Shared.Return(open, clearArray: true);
        if (!SettingsAcked && nowMs - SettingsSentAtMs > (long)Options.SettingsTimeout.TotalMilliseconds)
        {
            // §6.5.3: no ACK in time is a SETTINGS_TIMEOUT connection error.
            Stats.SettingsTimeout.Increment();
            SendGoAway(Http2ErrorCode.SettingsTimeout);
            return;
        }
        TimeSpan idle = Chain.Model.IdleTimeout;
        long since = Volatile.Read(ref _idleSinceMs);
        if (idle > TimeSpan.Zero && since != long.MaxValue && nowMs - since > (long)idle.TotalMilliseconds && !IsClosing)
        {
            Chain.Stats.DownstreamCxIdleTimeout.Increment();
            SendGoAway(Http2ErrorCode.NoError);
        }
    }

    private void OnForce()
    {
        Abort();
        _downstream.Abort();
    }
}
