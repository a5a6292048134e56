namespace Sidecar.Core.Http2;

public abstract partial class Http2Connection
{
    // Keepalive PINGs (RFC 9113 §6.7; Envoy's connection_keepalive). One PING is outstanding at a time;
    // its deadline runs from whichever is later, the PING or the last frame received (a peer busy sending
    // a long DATA backlog ahead of the ACK is alive). Fields are ticks of Environment.TickCount64;
    // the heartbeat drives the schedule, the read loop records arrivals and ACKs.
    private long _lastReceivedMs = Environment.TickCount64;
    private long _keepaliveSentMs;
    private ulong _keepaliveOpaque;
    private long _nextKeepaliveMs;

    private bool KeepaliveEnabled => Options.KeepaliveTimeout > TimeSpan.Zero;

    /// <summary>
    /// Heartbeat step: sends the interval PING when due; true when the outstanding PING went unanswered
    /// past the timeout (the caller closes the connection and counts <c>keepalive_timeout</c>).
    /// </summary>
    protected bool KeepaliveTick(long nowMs)
    {
        if (!KeepaliveEnabled) return false;
        long sent = Volatile.Read(ref _keepaliveSentMs);
        if (sent != 0)
        {
            long since = Math.Max(sent, Volatile.Read(ref _lastReceivedMs));
            return nowMs - since > (long)Options.KeepaliveTimeout.TotalMilliseconds;
        }
        if (Options.KeepaliveInterval <= TimeSpan.Zero) return false;
        long next = Volatile.Read(ref _nextKeepaliveMs);
        if (next == 0)
        {
            Volatile.Write(ref _nextKeepaliveMs, nowMs + NextKeepaliveDelayMs());
            return false;
        }
        if (nowMs >= next) SendKeepalive(nowMs);
        return false;
    }

    /// <summary>
    /// Before a new stream (client): a connection that heard nothing for <c>connection_idle_interval</c> may be
    /// dead; a PING goes out first so it is found out within the timeout (the stream still goes ahead).
    /// </summary>
    protected void KeepaliveBeforeNewStream()
    {
        if (!KeepaliveEnabled || Options.KeepaliveIdleInterval <= TimeSpan.Zero) return;
        long now = Environment.TickCount64;
        if (now - Volatile.Read(ref _lastReceivedMs) > (long)Options.KeepaliveIdleInterval.TotalMilliseconds) SendKeepalive(now);
    }

    private void SendKeepalive(long nowMs)
    {
        ulong opaque;
        lock (Output.SyncRoot)
        {
            if (_keepaliveSentMs != 0 || IsClosing) return;
            opaque = (ulong)Random.Shared.NextInt64() | 1;
            _keepaliveOpaque = opaque;
            Volatile.Write(ref _keepaliveSentMs, nowMs);
        }
        Output.WritePing(ack: false, opaque);
        Output.Kick();
    }

    /// <summary>A PING ACK arrived: if it answers our keepalive, the next one is scheduled.</summary>
    private void OnPingAck(ulong opaque)
    {
        lock (Output.SyncRoot)
        {
            if (_keepaliveSentMs == 0 || opaque != _keepaliveOpaque) return;
            Volatile.Write(ref _keepaliveSentMs, 0);
        }
        if (Options.KeepaliveInterval > TimeSpan.Zero) Volatile.Write(ref _nextKeepaliveMs, Environment.TickCount64 + NextKeepaliveDelayMs());
    }

    private long NextKeepaliveDelayMs()
    {
        long interval = (long)Options.KeepaliveInterval.TotalMilliseconds;
        double jitter = Options.KeepaliveIntervalJitter;
        return interval + (jitter > 0 ? (long)(Random.Shared.NextDouble() * jitter * interval) : 0);
    }

    /// <summary>The read loop got bytes (once per read pass: cheap, and enough for a 100 ms heartbeat).</summary>
    private void NoteReceived() => Volatile.Write(ref _lastReceivedMs, Environment.TickCount64);
}
