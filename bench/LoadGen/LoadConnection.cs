using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HdrHistogram;

namespace Sidecar.Bench.LoadGen;

/// <summary>
/// One keep-alive connection with at most one request in flight. Requests that come due while one is
/// in flight wait in a queue and are sent as soon as the response arrives; their latency still counts
/// from their intended send time, so a stall shows up in every request it delayed (coordinated
/// omission, as corrected by wrk2 and Nighthawk's open-loop mode).
/// </summary>
internal sealed class LoadConnection : IDisposable
{
    private readonly EndPoint _endpoint;
    private readonly byte[] _request;
    private readonly long _recordFromTicks;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly ResponseScanner _scanner = new();
    private readonly object _gate = new();
    private readonly Queue<long> _pending = new();
    private Socket? _socket;
    private bool _connected;
    private bool _busy;
    private long _inFlightIntended;

    public LoadConnection(EndPoint endpoint, byte[] request, long recordFromTicks)
    {
        _endpoint = endpoint;
        _request = request;
        _recordFromTicks = recordFromTicks;
    }

    /// <summary>µs from intended send time to the last byte of the response.</summary>
    public LongHistogram Latency { get; } = LatencySummary.NewHistogram();

    /// <summary>µs from intended to actual send (scheduler wake-up plus queueing behind a slow response).</summary>
    public LongHistogram SendLag { get; } = LatencySummary.NewHistogram();

    public long Submitted { get; private set; }
    public long Completed { get; private set; }
    public long Non2xx { get; private set; }
    public long Failed { get; private set; }
    public long Reconnects { get; private set; }
    public long LastCompletionTicks { get; private set; }

    public bool Idle
    {
        get
        {
            lock (_gate)
            {
                return !_busy && _pending.Count == 0;
            }
        }
    }

    /// <summary>Requests still queued or in flight (counted as failed when the run ends without them).</summary>
    public long Outstanding
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count + (_busy ? 1 : 0);
            }
        }
    }

    public void Connect()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        s.Connect(_endpoint);
        lock (_gate)
        {
            _socket = s;
            _connected = true;
            _scanner.Reset();
            if (_pending.TryDequeue(out var next))
            {
                SendLocked(next);
            }
        }
    }

    /// <summary>Called by the scheduler when request <paramref name="intendedTicks"/> is due.</summary>
    public void Submit(long intendedTicks)
    {
        lock (_gate)
        {
            if (intendedTicks >= _recordFromTicks)
            {
                Submitted++;
            }
            if (_busy || !_connected)
            {
                _pending.Enqueue(intendedTicks);
            }
            else
            {
                SendLocked(intendedTicks);
            }
        }
    }

    private void SendLocked(long intendedTicks)
    {
        _busy = true;
        _inFlightIntended = intendedTicks;
        if (intendedTicks >= _recordFromTicks)
        {
            LatencySummary.Record(SendLag, ToMicroseconds(Stopwatch.GetTimestamp() - intendedTicks));
        }
        try
        {
            // A GET head is a few dozen bytes: on loopback the send buffer always has room.
            _socket!.Send(_request);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The receive loop sees the broken socket and reconnects; the request counts as failed there.
        }
    }

    /// <summary>
    /// Blocking receive on a dedicated thread: for a few dozen connections this costs less CPU per
    /// response than async completions hopping through the thread pool, which matters because the
    /// generator shares two cores with the proxy and the backend.
    /// </summary>
    public void ReceiveLoop(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            int n;
            try
            {
                n = _socket!.Receive(_buffer, SocketFlags.None);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                n = 0;
            }
            if (ct.IsCancellationRequested)
            {
                return;
            }
            if ((n == 0 || !Consume(n)) && !Reconnect(ct))
            {
                return;
            }
        }
    }

    /// <summary>Frames the received bytes; false when the stream is malformed.</summary>
    private bool Consume(int n)
    {
        var data = _buffer.AsSpan(0, n);
        while (data.Length > 0)
        {
            var done = _scanner.Feed(data, out var used);
            if (_scanner.Broken)
            {
                return false;
            }
            data = data[used..];
            if (done)
            {
                OnResponse(_scanner.LastStatus);
            }
        }
        return true;
    }

    private void OnResponse(int status)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            if (_inFlightIntended >= _recordFromTicks)
            {
                LatencySummary.Record(Latency, ToMicroseconds(now - _inFlightIntended));
                Completed++;
                LastCompletionTicks = now;
                if (status is < 200 or >= 300)
                {
                    Non2xx++;
                }
            }
            if (_pending.TryDequeue(out var next))
            {
                SendLocked(next);
            }
            else
            {
                _busy = false;
            }
        }
    }

    private bool Reconnect(CancellationToken ct)
    {
        lock (_gate)
        {
            if (_busy && _inFlightIntended >= _recordFromTicks)
            {
                Failed++;
            }
            _busy = false;
            _connected = false;
            _socket?.Dispose();
            Reconnects++;
        }
        while (!ct.IsCancellationRequested)
        {
            try
            {
                Connect();
                return true;
            }
            catch (SocketException)
            {
                Thread.Sleep(10);
            }
        }
        return false;
    }

    public static long ToMicroseconds(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;

    public void Dispose()
    {
        lock (_gate)
        {
            _socket?.Dispose();
        }
    }
}
