using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sidecar.Core.Tests.Proxy;

/// <summary>How <see cref="BodyReadingBackend"/> treats one request.</summary>
internal enum BackendAnswer
{
    /// <summary>Reads the whole body, then answers 200 with "got N".</summary>
    AfterBody,
    /// <summary>Reads the whole body and never answers (the connection stays open).</summary>
    Never,
    /// <summary>Answers 413 as soon as the head is in, before any body, and closes.</summary>
    EarlyRefusal,
}

/// <summary>
/// An HTTP/1.1 backend that reads each request's Content-Length body and answers as <c>answer(requestNumber)</c> says
/// (numbers from 1, counted across connections), recording when it saw each body end.
/// </summary>
internal sealed class BodyReadingBackend : BlockingLoopbackServer
{
    private readonly Func<int, BackendAnswer> _answer;
    private int _requests;
    public int Requests => Volatile.Read(ref _requests);

    public BodyReadingBackend(Func<int, BackendAnswer> answer)
    {
        _answer = answer;
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
                int end;
                while ((end = buf.AsSpan(0, have).IndexOf("\r\n\r\n"u8)) < 0)
                {
                    int n = s.Receive(buf, have, buf.Length - have, SocketFlags.None);
                    if (n == 0) return;
                    have += n;
                }
                int number = Interlocked.Increment(ref _requests);
                BackendAnswer answer = _answer(number);
                long length = ContentLength(Encoding.ASCII.GetString(buf, 0, end));
                if (answer == BackendAnswer.EarlyRefusal)
                {
                    s.Send("HTTP/1.1 413 Payload Too Large\r\ncontent-length: 7\r\nconnection: close\r\n\r\ntoo big"u8);
                    s.Shutdown(SocketShutdown.Send);
                    return;
                }
                int bodyStart = end + 4;
                while (have - bodyStart < length)
                {
                    int n = s.Receive(buf, have, buf.Length - have, SocketFlags.None);
                    if (n == 0) return;
                    have += n;
                }
                int consumed = bodyStart + (int)length;
                Buffer.BlockCopy(buf, consumed, buf, 0, have - consumed);
                have -= consumed;
                if (answer == BackendAnswer.Never)
                {
                    // Hang: keep the connection open (the proxy gives up and closes it).
                    while (s.Receive(buf, 0, buf.Length, SocketFlags.None) > 0) { }
                    return;
                }
                string body = $"got {length}";
                s.Send(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\ncontent-length: {body.Length}\r\n\r\n{body}"));
            }
        }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    private static long ContentLength(string head)
    {
        foreach (string line in head.Split("\r\n"))
        {
            if (line.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase)) return long.Parse(line[15..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        return 0;
    }
}

/// <summary>A request body of <see cref="Chunks"/> bytes sent one byte per <see cref="Gap"/>, with a known length.</summary>
internal sealed class TrickledContent(int chunks, TimeSpan gap) : HttpContent
{
    public int Chunks { get; } = chunks;
    public TimeSpan Gap { get; } = gap;
    /// <summary>When the last byte was handed to the connection (Stopwatch ticks).</summary>
    public long LastByteSentAt { get; private set; }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        for (int i = 0; i < Chunks; i++)
        {
            await Task.Delay(Gap);
            await stream.WriteAsync("x"u8.ToArray());
            await stream.FlushAsync();
        }
        LastByteSentAt = Stopwatch.GetTimestamp();
    }

    protected override bool TryComputeLength(out long length)
    {
        length = Chunks;
        return true;
    }
}

/// <summary>Raw HTTP/1.1 uploads on a socket, the body trickled byte by byte.</summary>
internal static class TrickleClient
{
    /// <summary>
    /// Sends a POST whose Content-Length body goes out one byte per <paramref name="gap"/> (<paramref name="sent"/> of
    /// <paramref name="declared"/> bytes; fewer leaves the body unfinished), then reads the response until the proxy
    /// closes. Returns it with the milliseconds from the last byte sent to the end of the response.
    /// </summary>
    public static Task<(string Response, double MsAfterLastByte)> PostAsync(IPEndPoint proxy, int declared, int sent, TimeSpan gap) =>
        SendAsync(proxy, $"POST /upload HTTP/1.1\r\nHost: svc\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n", sent, gap);

    /// <summary>A bodyless GET (replayable, so retries apply); the milliseconds are from the head sent.</summary>
    public static Task<(string Response, double MsAfterLastByte)> GetAsync(IPEndPoint proxy) =>
        SendAsync(proxy, "GET /x HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n", 0, TimeSpan.Zero);

    private static async Task<(string Response, double MsAfterLastByte)> SendAsync(IPEndPoint proxy, string head, int sent, TimeSpan gap)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(proxy);
        await socket.SendAsync(Encoding.ASCII.GetBytes(head));
        var all = new MemoryStream();
        byte[] buf = new byte[8192];
        // An early answer may arrive while we are still sending: read concurrently.
        Task<int> firstRead = socket.ReceiveAsync(buf, SocketFlags.None);
        // When the last byte went out (the head, if none did): a loaded machine may stretch the gaps, so time from it.
        long last = Stopwatch.GetTimestamp();
        for (int i = 0; i < sent && !firstRead.IsCompleted; i++)
        {
            await Task.Delay(gap);
            try
            {
                await socket.SendAsync("x"u8.ToArray());
                last = Stopwatch.GetTimestamp();
            }
            catch (SocketException)
            {
                break;   // the proxy answered and closed
            }
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int n = await firstRead.WaitAsync(timeout.Token);
        while (n > 0)
        {
            all.Write(buf, 0, n);
            try
            {
                n = await socket.ReceiveAsync(buf, SocketFlags.None, timeout.Token);
            }
            catch (SocketException)
            {
                break;
            }
        }
        return (Encoding.Latin1.GetString(all.ToArray()), Stopwatch.GetElapsedTime(last).TotalMilliseconds);
    }
}
