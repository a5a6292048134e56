using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>Where the probes go: TCP endpoint plus the :authority and :path of the requests they make.</summary>
public sealed record ConformanceTarget(string Host, int Port, string Authority, string Path = "/")
{
    public static ConformanceTarget Loopback(int port, string path = "/") => new("127.0.0.1", port, $"127.0.0.1:{port}", path);
}

/// <summary>
/// A raw HTTP/2 client for conformance probes: it writes whatever frame it is told to (including invalid
/// ones — wrong lengths, bad padding, reserved bits, any stream id) and turns everything the peer sends into
/// <see cref="H2Event"/>s. Independent of the product's codec on purpose: a probe must not share the bugs
/// of the code it checks. Send errors are swallowed (the peer may already have closed; what it sent before
/// is what the probe judges).
/// </summary>
public sealed class H2ProbeConnection : IAsyncDisposable
{
    /// <summary>RFC 9113 §3.4: the client connection preface.</summary>
    public static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
    public const int DefaultMaxFrameSize = 16384; // §6.5.2 SETTINGS_MAX_FRAME_SIZE initial value

    public ConformanceTarget Target { get; }
    public TimeSpan WaitTimeout { get; }
    /// <summary>The peer's SETTINGS from its connection preface (§3.4), by identifier.</summary>
    public Dictionary<ushort, uint> ServerSettings { get; } = [];
    public int ServerMaxFrameSize => ServerSettings.TryGetValue(SettingId.MaxFrameSize, out var v) ? (int)v : DefaultMaxFrameSize;

    private readonly Socket _socket;
    private readonly Channel<H2Event> _events = Channel.CreateUnbounded<H2Event>();
    private readonly object _sendLock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private H2Event.Closed? _closed;
    /// <summary>
    /// The reader must not acknowledge the server's SETTINGS before our own preface and first SETTINGS are
    /// out (the ACK would land in front of, or inside, the client connection preface); until then it counts.
    /// </summary>
    private bool _clientSettingsSent;
    private int _pendingSettingsAcks;

    private H2ProbeConnection(ConformanceTarget target, Socket socket, TimeSpan waitTimeout)
    {
        Target = target; _socket = socket; WaitTimeout = waitTimeout;
        _reader = Task.Run(ReadLoop);
    }

    public static async Task<H2ProbeConnection> Open(ConformanceTarget target, TimeSpan waitTimeout)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var addresses = IPAddress.TryParse(target.Host, out var ip) ? [ip] : await Dns.GetHostAddressesAsync(target.Host, cts.Token);
        await s.ConnectAsync(addresses, target.Port, cts.Token);
        return new H2ProbeConnection(target, s, waitTimeout);
    }

    // ---------------------------------------------------------------- writing

    /// <summary>Raw bytes, exactly as given (hand-made frames, bad prefaces).</summary>
    public void Send(ReadOnlySpan<byte> bytes)
    {
        lock (_sendLock)
        {
            try { while (bytes.Length > 0) { var n = _socket.Send(bytes); bytes = bytes[n..]; } }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { /* peer gone: judged by events */ }
        }
    }

    /// <summary>
    /// A frame with a 9-octet header (§4.1). <paramref name="lengthOverride"/> lies about the length;
    /// <paramref name="reservedBit"/> sets the R bit before the stream identifier.
    /// </summary>
    public void WriteFrame(byte type, byte flags, uint streamId, ReadOnlySpan<byte> payload, int? lengthOverride = null, bool reservedBit = false)
    {
        var buf = new byte[9 + payload.Length];
        var len = lengthOverride ?? payload.Length;
        buf[0] = (byte)(len >> 16); buf[1] = (byte)(len >> 8); buf[2] = (byte)len;
        buf[3] = type; buf[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(buf.AsSpan(5), (streamId & 0x7fffffff) | (reservedBit ? 0x80000000u : 0));
        payload.CopyTo(buf.AsSpan(9));
        Send(buf);
    }

    /// <summary>SETTINGS (§6.5): 6 octets per parameter.</summary>
    public void WriteSettings(params (ushort Id, uint Value)[] settings)
    {
        var p = new byte[settings.Length * 6];
        for (int i = 0; i < settings.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(i * 6), settings[i].Id);
            BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(i * 6 + 2), settings[i].Value);
        }
        lock (_sendLock)
        {
            WriteFrame(FrameType.Settings, 0, 0, p);
            _clientSettingsSent = true;
            for (; _pendingSettingsAcks > 0; _pendingSettingsAcks--) WriteSettingsAck();
        }
    }

    public void WriteSettingsAck() => WriteFrame(FrameType.Settings, FrameFlags.Ack, 0, []);

    /// <summary>§6.5.3: every SETTINGS from the peer is acknowledged, as any client would (once our preface is out).</summary>
    private void AcknowledgeServerSettings()
    {
        lock (_sendLock)
        {
            if (_clientSettingsSent) WriteSettingsAck();
            else _pendingSettingsAcks++;
        }
    }

    /// <summary>HEADERS (§6.2), optionally padded (PADDED flag + pad length octet + zero padding) and/or with priority fields.</summary>
    public void WriteHeaders(uint streamId, bool endStream, bool endHeaders, ReadOnlySpan<byte> block,
        int padLength = -1, PriorityFields? priority = null)
    {
        byte flags = (byte)((endStream ? FrameFlags.EndStream : 0) | (endHeaders ? FrameFlags.EndHeaders : 0));
        var p = new List<byte>();
        if (padLength >= 0) { flags |= FrameFlags.Padded; p.Add((byte)padLength); }
        if (priority is PriorityFields pr) { flags |= FrameFlags.Priority; p.AddRange(pr.Encode()); }
        p.AddRange(block.ToArray());
        if (padLength > 0) p.AddRange(new byte[padLength]);
        WriteFrame(FrameType.Headers, flags, streamId, p.ToArray());
    }

    /// <summary>DATA (§6.1); with <paramref name="padding"/> the frame is PADDED and carries those octets after the data.</summary>
    public void WriteData(uint streamId, bool endStream, ReadOnlySpan<byte> data, byte[]? padding = null)
    {
        byte flags = endStream ? FrameFlags.EndStream : (byte)0;
        if (padding is null) { WriteFrame(FrameType.Data, flags, streamId, data); return; }
        var p = new byte[1 + data.Length + padding.Length];
        p[0] = (byte)padding.Length;
        data.CopyTo(p.AsSpan(1));
        padding.CopyTo(p.AsSpan(1 + data.Length));
        WriteFrame(FrameType.Data, (byte)(flags | FrameFlags.Padded), streamId, p);
    }

    public void WritePriority(uint streamId, PriorityFields priority) => WriteFrame(FrameType.Priority, 0, streamId, priority.Encode());

    public void WriteRstStream(uint streamId, uint errorCode)
    {
        var p = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(p, errorCode);
        WriteFrame(FrameType.RstStream, 0, streamId, p);
    }

    public void WritePing(bool ack, ReadOnlySpan<byte> opaque8) => WriteFrame(FrameType.Ping, ack ? FrameFlags.Ack : (byte)0, 0, opaque8);

    public void WriteGoAway(uint lastStreamId, uint errorCode, ReadOnlySpan<byte> debug)
    {
        var p = new byte[8 + debug.Length];
        BinaryPrimitives.WriteUInt32BigEndian(p, lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(4), errorCode);
        debug.CopyTo(p.AsSpan(8));
        WriteFrame(FrameType.GoAway, 0, 0, p);
    }

    public void WriteWindowUpdate(uint streamId, uint increment)
    {
        var p = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(p, increment);
        WriteFrame(FrameType.WindowUpdate, 0, streamId, p);
    }

    public void WriteContinuation(uint streamId, bool endHeaders, ReadOnlySpan<byte> block) =>
        WriteFrame(FrameType.Continuation, endHeaders ? FrameFlags.EndHeaders : (byte)0, streamId, block);

    public void WritePushPromise(uint streamId, uint promisedStreamId, bool endHeaders, ReadOnlySpan<byte> block)
    {
        var p = new byte[4 + block.Length];
        BinaryPrimitives.WriteUInt32BigEndian(p, promisedStreamId);
        block.CopyTo(p.AsSpan(4));
        WriteFrame(FrameType.PushPromise, endHeaders ? FrameFlags.EndHeaders : (byte)0, streamId, p);
    }

    // ---------------------------------------------------------------- reading

    /// <summary>The next event, or <see cref="H2Event.Timeout"/> after <paramref name="wait"/>; once closed, always Closed.</summary>
    public async Task<H2Event> Next(TimeSpan wait)
    {
        if (_events.Reader.TryRead(out var ready)) return ready;
        if (_closed != null) return _closed;
        using var cts = new CancellationTokenSource(wait);
        try { return await _events.Reader.ReadAsync(cts.Token); }
        catch (OperationCanceledException) { return new H2Event.Timeout(wait); }
        catch (ChannelClosedException) { return _closed ?? new H2Event.Closed("reader stopped"); }
    }

    private async Task ReadLoop()
    {
        var header = new byte[9];
        string how = "EOF";
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (!await ReadExactly(header)) break;
                int len = header[0] << 16 | header[1] << 8 | header[2];
                var payload = new byte[len];
                if (!await ReadExactly(payload)) break;
                var frame = new H2Frame(header[3], header[4], BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(5)) & 0x7fffffff, payload);
                if (frame.Type == FrameType.Settings && !frame.Has(FrameFlags.Ack)) AcknowledgeServerSettings();
                _events.Writer.TryWrite(new H2Event.Frame(frame));
            }
        }
        catch (SocketException e) { how = e.SocketErrorCode.ToString(); }
        catch (ObjectDisposedException) { how = "disposed"; }
        catch (OperationCanceledException) { how = "disposed"; }
        _closed = new H2Event.Closed(how);
        _events.Writer.TryWrite(_closed);
        _events.Writer.TryComplete();
    }

    private async Task<bool> ReadExactly(byte[] into)
    {
        int got = 0;
        while (got < into.Length)
        {
            var n = await _socket.ReceiveAsync(into.AsMemory(got), SocketFlags.None, _stop.Token);
            if (n == 0) return false;
            got += n;
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception) { }
        _socket.Dispose();
        try { await _reader; } catch (Exception) { }
        _stop.Dispose();
    }
}

/// <summary>Stream dependency, exclusive bit and weight (RFC 9113 §6.3 / RFC 7540 §5.3; weight sent as value−1).</summary>
public readonly record struct PriorityFields(uint DependsOn, bool Exclusive, byte Weight)
{
    public byte[] Encode()
    {
        var p = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(p, (DependsOn & 0x7fffffff) | (Exclusive ? 0x80000000u : 0));
        p[4] = Weight;
        return p;
    }
}
