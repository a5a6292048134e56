using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Sidecar.Core.Tests.Proxy;

/// <summary>
/// The response body is copied first from the read that completed the head, then streamed from later reads.
/// These responses arrive in pieces with pauses between them, so every split takes the streaming path:
/// body after the head, part of the body with the head, a close-delimited body re-framed as chunked.
/// </summary>
public sealed class Http1ResponseBodyTests
{
    private static readonly byte[] Get = "GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n"u8.ToArray();

    [Theory]
    [InlineData(0)]     // the head alone, then the whole body
    [InlineData(5)]     // the head with 5 body bytes, then the rest
    [InlineData(-1)]    // head and body in one write (the common case)
    public async Task Content_length_body_split_from_its_head_arrives_whole_and_the_connection_stays_usable(int bodyBytesWithHead)
    {
        const string body = "0123456789abcdefghij";
        byte[] head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n");
        byte[] bodyBytes = Encoding.ASCII.GetBytes(body);
        using var backend = new PiecewiseBackend(bodyBytesWithHead < 0
            ? [[.. head, .. bodyBytes]]
            : [[.. head, .. bodyBytes[..bodyBytesWithHead]], bodyBytes[bodyBytesWithHead..]]);
        await using var proxy = await ProxyHarness.StartAsync(ProxyHarness.HttpModel(backend.Port));
        await Task.Run(() =>
        {
            using var client = new BlockingClient(proxy.EndPoint);
            for (int i = 0; i < 3; i++)
            {
                client.Send(Get);
                int status = client.ReadResponse(out int headLength, out int bodyLength);
                Assert.Equal(200, status);
                Assert.Equal(body, Encoding.ASCII.GetString(client.Buffer.Slice(headLength, bodyLength)));
            }
        });
        Assert.Equal(3, backend.Requests);
    }

    [Fact]
    public async Task Close_delimited_body_in_pieces_is_rechunked_completely()
    {
        byte[] head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst-"u8.ToArray();
        using var backend = new PiecewiseBackend([head, "second-"u8.ToArray(), "third"u8.ToArray()], closeAfter: true);
        await using var proxy = await ProxyHarness.StartAsync(ProxyHarness.HttpModel(backend.Port));
        string received = await Task.Run(() =>
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Connect(proxy.EndPoint);
            s.Send(Get);
            var all = new MemoryStream();
            byte[] buf = new byte[4096];
            // The proxy re-frames as chunked and keeps the client connection; read until the last chunk.
            while (!Encoding.ASCII.GetString(all.ToArray()).EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal))
            {
                int n = s.Receive(buf);
                if (n == 0) break;
                all.Write(buf, 0, n);
            }
            return Encoding.ASCII.GetString(all.ToArray());
        });
        Assert.Contains("transfer-encoding: chunked\r\n", received, StringComparison.OrdinalIgnoreCase);
        int bodyStart = received.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        Assert.Equal("first-second-third", Dechunk(received[bodyStart..]));
    }

    private static string Dechunk(string chunked)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (true)
        {
            int lineEnd = chunked.IndexOf("\r\n", i, StringComparison.Ordinal);
            int size = Convert.ToInt32(chunked[i..lineEnd], 16);
            if (size == 0) return sb.ToString();
            sb.Append(chunked, lineEnd + 2, size);
            i = lineEnd + 2 + size + 2;
        }
    }

    /// <summary>Answers each request with the given pieces, pausing between them so each arrives in its own read.</summary>
    private sealed class PiecewiseBackend : BlockingHttpBackend
    {
        private readonly byte[][] _pieces;
        private readonly bool _closeAfter;
        public int Requests;

        public PiecewiseBackend(byte[][] pieces, bool closeAfter = false)
        {
            _pieces = pieces;
            _closeAfter = closeAfter;
            Start();
        }

        protected override bool Answer(Socket s, ReadOnlySpan<byte> head)
        {
            Interlocked.Increment(ref Requests);
            for (int i = 0; i < _pieces.Length; i++)
            {
                if (i > 0) Thread.Sleep(30);
                s.Send(_pieces[i]);
            }
            if (!_closeAfter) return true;
            s.Shutdown(SocketShutdown.Both);
            return false;
        }
    }
}
