using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sidecar.Core.Tests.HttpFeatures;

/// <summary>
/// An HTTP/1.1 backend that answers each request with its own head (request line and fields, as received) as the
/// body, after an optional delay: what the proxy forwarded, exactly.
/// </summary>
internal sealed class EchoHeadBackend : Proxy.BlockingLoopbackServer
{
    private readonly TimeSpan _delay;

    public EchoHeadBackend(TimeSpan delay = default)
    {
        _delay = delay;
        Start();
    }

    protected override void Serve(Socket s)
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
                int end = buf.AsSpan(0, have).IndexOf("\r\n\r\n"u8);
                if (end < 0) continue;
                string head = Encoding.Latin1.GetString(buf, 0, end);
                Buffer.BlockCopy(buf, end + 4, buf, 0, have - end - 4);
                have -= end + 4;
                if (_delay > TimeSpan.Zero) Thread.Sleep(_delay);
                byte[] body = Encoding.Latin1.GetBytes(head);
                s.Send(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\ncontent-length: {body.Length}\r\ncontent-type: text/plain\r\n\r\n"));
                s.Send(body);
            }
        }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }
}
