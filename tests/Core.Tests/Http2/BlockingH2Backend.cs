using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Net;
using System.Net.Sockets;
using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Tests.Http2;

/// <summary>
/// A raw h2c upstream on blocking sockets (one thread per connection, preallocated buffers): it reads the
/// client preface, acknowledges SETTINGS, and answers every request stream with the same pre-encoded
/// response (":status 200", content-length 12, "hello world\n"). It allocates nothing per request, so the
/// process-wide allocation counter measures the proxy. PINGs are acknowledged only when
/// <see cref="AnswerPings"/> is set: with it off it plays an upstream that stopped answering keepalives.
/// </summary>
internal sealed class BlockingH2Backend : IDisposable
{
    public const string Body = "hello world\n";
    private readonly Socket _listen;
    private readonly List<Socket> _accepted = [];
    private readonly byte[] _response;

    public BlockingH2Backend(bool answerPings = true)
    {
        AnswerPings = answerPings;
        _response = BuildResponse();
        _listen = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listen.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listen.Listen(64);
        Port = ((IPEndPoint)_listen.LocalEndPoint!).Port;
        new Thread(AcceptLoop) { IsBackground = true }.Start();
    }

    public int Port { get; }
    public volatile bool AnswerPings;
    /// <summary>Cleared: complete requests are counted but never answered (an upstream that hangs).</summary>
    public volatile bool AnswerRequests = true;
    /// <summary>Connections accepted so far.</summary>
    public int Connections;
    /// <summary>Connections the client closed (EOF or reset seen by the backend).</summary>
    public int ClosedByClient;
    /// <summary>PING frames (not ACKs) received, answered or not.</summary>
    public int PingsReceived;
    public int Requests;

    /// <summary>HEADERS (":status: 200" indexed, content-length literal) + DATA with END_STREAM; stream ids patched per reply.</summary>
    private static byte[] BuildResponse()
    {
        byte[] length = System.Text.Encoding.ASCII.GetBytes(Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // RFC 7541: 0x88 = indexed field 8 (":status: 200"); 0x0F 0x0D = literal without indexing, name index 28 (content-length).
        byte[] block = [0x88, 0x0F, 0x0D, (byte)length.Length, .. length];
        byte[] r = new byte[9 + block.Length + 9 + Body.Length];
        WriteFrameHeader(r, block.Length, 0x1, 0x4, 0);
        block.CopyTo(r, 9);
        int d = 9 + block.Length;
        WriteFrameHeader(r.AsSpan(d), Body.Length, 0x0, 0x1, 0);
        System.Text.Encoding.ASCII.GetBytes(Body).CopyTo(r, d + 9);
        return r;
    }

    internal static void WriteFrameHeader(Span<byte> d, int length, byte type, byte flags, int stream)
    {
        d[0] = (byte)(length >> 16);
        d[1] = (byte)(length >> 8);
        d[2] = (byte)length;
        d[3] = type;
        d[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(d[5..], stream);
    }

    private void AcceptLoop()
    {
        while (true)
        {
            Socket s;
            try { s = _listen.Accept(); } catch (SocketException) { return; } catch (ObjectDisposedException) { return; }
            s.NoDelay = true; // replies are small writes: no Nagle wait behind the previous one
            Interlocked.Increment(ref Connections);
            lock (_accepted) _accepted.Add(s);
            new Thread(() => Serve(s)) { IsBackground = true }.Start();
        }
    }

    private void Serve(Socket s)
    {
        byte[] buf = new byte[256 * 1024];
        byte[] reply = (byte[])_response.Clone();
        byte[] control = new byte[17];
        int dataAt = reply.Length - 9 - Body.Length;
        int have = 0;
        bool prefaceRead = false;
        try
        {
            WriteFrameHeader(control, 0, 0x4, 0, 0);   // our (empty) SETTINGS
            s.Send(control, 0, 9, SocketFlags.None);
            while (true)
            {
                int n = s.Receive(buf, have, buf.Length - have, SocketFlags.None);
                if (n == 0) break;
                have += n;
                int at = 0;
                if (!prefaceRead)
                {
                    if (have < 24) continue;
                    at = 24;
                    prefaceRead = true;
                }
                while (have - at >= 9)
                {
                    int length = (buf[at] << 16) | (buf[at + 1] << 8) | buf[at + 2];
                    if (have - at < 9 + length) break;
                    byte type = buf[at + 3];
                    byte flags = buf[at + 4];
                    int stream = BinaryPrimitives.ReadInt32BigEndian(buf.AsSpan(at + 5)) & 0x7FFF_FFFF;
                    if (type == 0x4 && (flags & 0x1) == 0)
                    {
                        WriteFrameHeader(control, 0, 0x4, 0x1, 0);   // SETTINGS ACK
                        s.Send(control, 0, 9, SocketFlags.None);
                    }
                    else if (type == 0x6 && (flags & 0x1) == 0)
                    {
                        Interlocked.Increment(ref PingsReceived);
                        if (AnswerPings)
                        {
                            WriteFrameHeader(control, 8, 0x6, 0x1, 0);
                            Buffer.BlockCopy(buf, at + 9, control, 9, 8);
                            s.Send(control, 0, 17, SocketFlags.None);
                        }
                    }
                    else if ((type == 0x1 || type == 0x0) && (flags & 0x1) != 0)
                    {
                        // END_STREAM on HEADERS or DATA: the request is complete.
                        Interlocked.Increment(ref Requests);
                        if (!AnswerRequests)
                        {
                            at += 9 + length;
                            continue;
                        }
                        BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(5), stream);
                        BinaryPrimitives.WriteInt32BigEndian(reply.AsSpan(dataAt + 5), stream);
                        s.Send(reply);
                    }
                    at += 9 + length;
                }
                Buffer.BlockCopy(buf, at, buf, 0, have - at);
                have -= at;
            }
        }
        catch (SocketException) { }
        catch (ObjectDisposedException) { return; }
        Interlocked.Increment(ref ClosedByClient);
    }

    /// <summary>A bootstrap like <c>ProxyHarness.HttpModel</c> whose cluster speaks HTTP/2 (explicit h2) to this backend.</summary>
    public BootstrapModel Model(BootstrapModel httpModel, Http2ProtocolOptionsModel? http2 = null) => Model(httpModel, Port, http2);

    /// <summary>The same bootstrap with the cluster's one endpoint at <paramref name="port"/> on loopback.</summary>
    public static BootstrapModel Model(BootstrapModel httpModel, int port, Http2ProtocolOptionsModel? http2 = null)
    {
        var cluster = new ClusterModel
        {
            Name = "backend",
            Type = DiscoveryType.Static,
            ConnectTimeout = TimeSpan.FromSeconds(1),
            UpstreamProtocol = UpstreamProtocol.Http2,
            Http2 = http2 ?? Http2ProtocolOptionsModel.Default,
            Localities = [new LocalityEndpointsModel { Endpoints = [new EndpointModel { Host = "127.0.0.1", Port = port, Address = IPAddress.Loopback }] }],
        };
        return new BootstrapModel
        {
            Admin = null,
            Listeners = httpModel.Listeners,
            Clusters = new Dictionary<string, ClusterModel> { ["backend"] = cluster }.ToFrozenDictionary(),
        };
    }

    public void Dispose()
    {
        _listen.Dispose();
        lock (_accepted) foreach (var s in _accepted) s.Dispose();
    }
}
