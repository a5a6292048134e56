using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sidecar.Core.Tests.HttpFeatures;

/// <summary>
/// An HTTP/1.1 backend that answers each request with its own head (request line and fields, as received) as the
/// body, after an optional delay: what the proxy forwarded, exactly.
/// </summary>
internal sealed class EchoHeadBackend : Proxy.BlockingHttpBackend
{
    private readonly TimeSpan _delay;

    public EchoHeadBackend(TimeSpan delay = default)
    {
        _delay = delay;
        Start();
    }

    protected override bool Answer(Socket s, ReadOnlySpan<byte> head)
    {
        if (_delay > TimeSpan.Zero) Thread.Sleep(_delay);
        byte[] body = head.ToArray();
        s.Send(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\ncontent-length: {body.Length}\r\ncontent-type: text/plain\r\n\r\n"));
        s.Send(body);
        return true;
    }
}
