using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Sidecar.E2E.Tests.Http2Conformance;

namespace Sidecar.E2E.Tests;

/// <summary>One frame as the server sent it.</summary>
public sealed record H2WireFrame(byte Type, byte Flags, int Stream, byte[] Payload)
{
    public bool EndStream => (Type is FrameType.Data or FrameType.Headers) && (Flags & FrameFlags.EndStream) != 0;
    public override string ToString() => $"{FrameType.Name(Type)} flags={Flags:x2} stream={Stream} len={Payload.Length}";
}

/// <summary>
/// Everything a server sent on one h2c connection that carried one GET (stream 1), frame by frame, and how the
/// connection ended. Also checks what nghttp2 (curl's HTTP/2) treats as a connection error before the response —
/// curl reports those as exit 52 "Empty reply from server" (a close without any frame is exit 18 or 56 instead).
/// </summary>
public sealed class H2Transcript
{
    public List<H2WireFrame> Frames { get; } = [];
    public string Ending { get; private set; } = "";
    /// <summary>The first bytes received, in hex (for failure messages).</summary>
    public string FirstBytes { get; private set; } = "";

    /// <summary>The first frame that nghttp2 would reject as a connection error, or null.</summary>
    public string? ProtocolViolation
    {
        get
        {
            bool headersSeen = false;
            for (int i = 0; i < Frames.Count; i++)
            {
                H2WireFrame f = Frames[i];
                if (i == 0 && (f.Type != FrameType.Settings || (f.Flags & FrameFlags.Ack) != 0)) return $"first frame is {f}, not SETTINGS (§3.4)";
                if (f.Type > FrameType.Continuation || f.Type == FrameType.PushPromise) return $"unexpected {f}";
                if (f.Stream is not (0 or 1)) return $"{f} on a stream the client never opened";
                if ((f.Type is FrameType.Settings or FrameType.Ping or FrameType.GoAway) != (f.Stream == 0) && f.Type != FrameType.WindowUpdate) return $"{f} on the wrong stream";
                if (f.Type == FrameType.WindowUpdate && (f.Payload.Length != 4 || BinaryPrimitives.ReadInt32BigEndian(f.Payload) == 0)) return $"{f} with a zero increment";
                if (f.Type == FrameType.Headers) headersSeen = true;
                if (f.Type == FrameType.Data && !headersSeen) return $"{f} before the response HEADERS";
            }
            return null;
        }
    }

    /// <summary>The response HEADERS of stream 1, or null.</summary>
    public H2WireFrame? ResponseHead => Frames.Find(f => f.Type == FrameType.Headers && f.Stream == 1);

    /// <summary>:status of the response, read from the sidecar's first block of a fresh connection (static index or literal).</summary>
    public string Status
    {
        get
        {
            byte[]? block = ResponseHead?.Payload;
            if (block is null || block.Length == 0) return "none";
            return block[0] switch
            {
                0x88 => "200", 0x89 => "204", 0x8a => "206", 0x8b => "304", 0x8c => "400", 0x8d => "404", 0x8e => "500",
                // literal with the :status name (static index 8), a raw 3-byte value
                0x48 or 0x08 or 0x18 when block.Length >= 5 && block[1] == 3 => Encoding.ASCII.GetString(block, 2, 3),
                _ => "block " + Convert.ToHexString(block, 0, Math.Min(8, block.Length)),
            };
        }
    }

    public long DataBytes(int stream) => Frames.Where(f => f.Type == FrameType.Data && f.Stream == stream).Sum(f => (long)f.Payload.Length);

    public override string ToString() =>
        $"{string.Join(", ", Frames.Take(20))}{(Frames.Count > 20 ? ", ..." : "")}; {Ending}; first bytes {FirstBytes}";

    /// <summary>
    /// Opens a connection, sends the preface, SETTINGS and GET <paramref name="path"/> as stream 1, and reads until stream
    /// 1 ends, the connection ends, or <paramref name="stopAtHead"/> and the response HEADERS came (then it hangs up).
    /// </summary>
    public static async Task<H2Transcript> Get(int port, string path, bool stopAtHead = false, TimeSpan? timeout = null)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var t = new H2Transcript();
        await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
        var request = new MemoryStream();
        request.Write(H2ProbeConnection.Preface);
        request.Write(Frame(FrameType.Settings, 0, 0, []));
        request.Write(Frame(FrameType.Headers, FrameFlags.EndHeaders | FrameFlags.EndStream, 1, RawH2.Request(path)));
        await s.SendAsync(request.ToArray(), SocketFlags.None, cts.Token);
        var pending = new List<byte>();
        var buffer = new byte[65536];
        try
        {
            while (true)
            {
                int n = await s.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (n == 0)
                {
                    t.Ending = "closed (FIN)";
                    return t;
                }
                if (t.FirstBytes.Length == 0) t.FirstBytes = Convert.ToHexString(buffer, 0, Math.Min(n, 48));
                pending.AddRange(buffer.AsSpan(0, n));
                while (pending.Count >= 9)
                {
                    int len = pending[0] << 16 | pending[1] << 8 | pending[2];
                    if (pending.Count < 9 + len) break;
                    var f = new H2WireFrame(pending[3], pending[4], BinaryPrimitives.ReadInt32BigEndian(pending.GetRange(5, 4).ToArray()) & 0x7fffffff,
                        pending.GetRange(9, len).ToArray());
                    pending.RemoveRange(0, 9 + len);
                    t.Frames.Add(f);
                    if (t.Frames.Count == 1 && f.Type == FrameType.Settings) await s.SendAsync(Frame(FrameType.Settings, FrameFlags.Ack, 0, []), SocketFlags.None, cts.Token);
                    if (f.Stream == 1 && (f.EndStream || f.Type == FrameType.RstStream || (stopAtHead && f.Type == FrameType.Headers)))
                    {
                        t.Ending = "stream 1 ended";
                        return t;
                    }
                    if (f.Type == FrameType.GoAway || t.ProtocolViolation is not null)
                    {
                        t.Ending = "stopped at " + f;
                        return t;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            t.Ending = "timed out";
        }
        catch (SocketException e)
        {
            t.Ending = "socket error " + e.SocketErrorCode;
        }
        return t;
    }

    public static byte[] Frame(byte type, byte flags, int stream, ReadOnlySpan<byte> payload)
    {
        var b = new byte[9 + payload.Length];
        b[0] = (byte)(payload.Length >> 16); b[1] = (byte)(payload.Length >> 8); b[2] = (byte)payload.Length;
        b[3] = type; b[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(5), stream);
        payload.CopyTo(b.AsSpan(9));
        return b;
    }

    /// <summary>Splits recorded server bytes into frame headers (for a failure message): as many as are whole.</summary>
    public static string DescribeFrames(byte[] bytes)
    {
        var parts = new List<string>();
        int at = 0;
        while (bytes.Length - at >= 9 && parts.Count < 12)
        {
            int len = bytes[at] << 16 | bytes[at + 1] << 8 | bytes[at + 2];
            parts.Add($"{FrameType.Name(bytes[at + 3])} flags={bytes[at + 4]:x2} stream={BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at + 5)) & 0x7fffffff} len={len}");
            at += 9 + len;
        }
        return $"{bytes.Length} bytes: {string.Join(", ", parts)}; hex {Convert.ToHexString(bytes, 0, Math.Min(bytes.Length, 96))}";
    }
}

/// <summary>
/// A loopback TCP relay in front of a port that keeps what the server sent: a client (curl) that fails can then be
/// explained by the exact bytes it got. One connection at a time, in order.
/// </summary>
public sealed class RecordingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly Task _run;
    private readonly MemoryStream _fromServer = new();
    public int Port { get; }

    public RecordingRelay(int target)
    {
        _target = target;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _run = RunOnce();
    }

    /// <summary>What the server sent on the relayed connection so far.</summary>
    public byte[] FromServer
    {
        get { lock (_fromServer) return _fromServer.ToArray(); }
    }

    private async Task RunOnce()
    {
        try
        {
            using var client = await _listener.AcceptSocketAsync();
            using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.NoDelay = true;
            await server.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _target));
            await Task.WhenAll(Pump(client, server, null), Pump(server, client, _fromServer));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    private static async Task Pump(Socket from, Socket to, MemoryStream? record)
    {
        var buffer = new byte[65536];
        try
        {
            while (true)
            {
                int n = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0) break;
                if (record is not null) lock (record) record.Write(buffer, 0, n);
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // a reset on one side is passed on as a close of the other
            try { to.Close(0); } catch (ObjectDisposedException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _run.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
