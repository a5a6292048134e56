using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sidecar.Core.Tests.Proxy;

/// <summary>
/// A loopback listener on plain blocking sockets: one thread accepts, one thread per connection serves it. Subclasses
/// say how a connection is served and call <see cref="Start"/> once their own fields are set.
/// </summary>
internal abstract class BlockingLoopbackServer : IDisposable
{
    private readonly Socket _listen;
    private readonly List<Socket> _accepted = [];
    public int Port { get; }

    protected BlockingLoopbackServer()
    {
        _listen = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listen.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listen.Listen(64);
        Port = ((IPEndPoint)_listen.LocalEndPoint!).Port;
    }

    protected void Start() => new Thread(AcceptLoop) { IsBackground = true }.Start();

    protected abstract void Serve(Socket s);

    private void AcceptLoop()
    {
        while (true)
        {
            Socket s;
            try { s = _listen.Accept(); } catch (SocketException) { return; } catch (ObjectDisposedException) { return; }
            lock (_accepted) _accepted.Add(s);
            new Thread(() => Serve(s)) { IsBackground = true }.Start();
        }
    }

    public void Dispose()
    {
        _listen.Dispose();
        lock (_accepted) foreach (var s in _accepted) s.Dispose();
    }
}

/// <summary>
/// An HTTP/1.1 backend on blocking sockets whose requests carry no body: each complete request head received on a
/// connection is handed to <see cref="Answer"/> in order (pipelined heads too). The receive buffer is allocated once
/// per connection, so the loop allocates nothing per request.
/// </summary>
internal abstract class BlockingHttpBackend : BlockingLoopbackServer
{
    /// <summary>Answers one request; <paramref name="head"/> ends before its blank line. False closes the connection.</summary>
    protected abstract bool Answer(Socket s, ReadOnlySpan<byte> head);

    protected sealed override void Serve(Socket s)
    {
        byte[] buf = new byte[64 * 1024];
        int have = 0;
        try
        {
            while (true)
            {
                int n = s.Receive(buf, have, buf.Length - have, SocketFlags.None);
                if (n == 0) return;
                have += n;
                int start = 0;
                while (true)
                {
                    int end = buf.AsSpan(start, have - start).IndexOf("\r\n\r\n"u8);
                    if (end < 0) break;
                    bool keepOpen = Answer(s, buf.AsSpan(start, end));
                    start += end + 4;
                    if (!keepOpen) return;
                }
                Buffer.BlockCopy(buf, start, buf, 0, have - start);
                have -= start;
            }
        }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }
}

/// <summary>
/// An HTTP/1.1 backend that answers every request on a connection with the same fixed response. It allocates nothing
/// per request, so the process-wide allocation counter measures the proxy alone.
/// </summary>
internal sealed class FixedResponseBackend : BlockingHttpBackend
{
    private readonly byte[] _response;
    public int Requests;

    public FixedResponseBackend(string body)
    {
        _response = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nContent-Type: text/plain\r\n\r\n{body}");
        Start();
    }

    protected override bool Answer(Socket s, ReadOnlySpan<byte> head)
    {
        Interlocked.Increment(ref Requests);
        s.Send(_response);
        return true;
    }
}

/// <summary>A keep-alive client on a blocking socket that sends a fixed request and reads fixed-size responses.</summary>
internal sealed class BlockingClient : IDisposable
{
    private readonly Socket _s;
    private readonly byte[] _buf = new byte[64 * 1024];

    public BlockingClient(IPEndPoint ep)
    {
        _s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _s.Connect(ep);
    }

    public void Send(byte[] request) => _s.Send(request);

    /// <summary>Reads one response whose body length is in Content-Length; returns the status code.</summary>
    public int ReadResponse(out int headLength, out int bodyLength)
    {
        int have = 0;
        while (true)
        {
            int n = _s.Receive(_buf, have, _buf.Length - have, SocketFlags.None);
            if (n == 0) throw new IOException("closed");
            have += n;
            int end = _buf.AsSpan(0, have).IndexOf("\r\n\r\n"u8);
            if (end < 0) continue;
            headLength = end + 4;
            bodyLength = ContentLength(_buf.AsSpan(0, end));
            while (have < headLength + bodyLength)
            {
                n = _s.Receive(_buf, have, _buf.Length - have, SocketFlags.None);
                if (n == 0) throw new IOException("closed");
                have += n;
            }
            return (_buf[9] - '0') * 100 + (_buf[10] - '0') * 10 + (_buf[11] - '0');
        }
    }

    public ReadOnlySpan<byte> Buffer => _buf;

    private static int ContentLength(ReadOnlySpan<byte> head)
    {
        int i = head.IndexOf("\r\ncontent-length: "u8);
        if (i < 0) i = head.IndexOf("\r\nContent-Length: "u8);
        if (i < 0) return 0;
        int v = 0;
        for (int j = i + 18; j < head.Length && head[j] >= '0' && head[j] <= '9'; j++) v = v * 10 + (head[j] - '0');
        return v;
    }

    public void Dispose() => _s.Dispose();
}
