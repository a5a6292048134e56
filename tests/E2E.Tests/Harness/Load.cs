using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Sidecar.E2E.Tests.Harness;

public sealed record WrkResult(long Requests, long Non2xx, long Connect, long Read, long Write, long Timeout, ProcResult Raw)
{
    public long SocketErrors => Connect + Read + Write + Timeout;
    public override string ToString() => Raw.StdOut + Raw.StdErr;
}

public static partial class Load
{
    public static async Task<WrkResult> Wrk(string url, int connections = 10, int seconds = 2)
    {
        var wrk = TestEnv.Tool("wrk", "wrk");
        var r = await Proc.Run(wrk, ["-t1", $"-c{connections}", $"-d{seconds}s", "--timeout", "5s", url],
            TimeSpan.FromSeconds(seconds + 30));
        return ParseWrk(r);
    }

    public static WrkResult ParseWrk(ProcResult r)
    {
        var o = r.StdOut;
        long req = 0, non2xx = 0, c = 0, rd = 0, w = 0, t = 0;
        var m = Requests().Match(o);
        if (m.Success) req = long.Parse(m.Groups[1].Value);
        m = Non2xx().Match(o);
        if (m.Success) non2xx = long.Parse(m.Groups[1].Value);
        m = SocketErrors().Match(o);
        if (m.Success)
        {
            c = long.Parse(m.Groups[1].Value); rd = long.Parse(m.Groups[2].Value);
            w = long.Parse(m.Groups[3].Value); t = long.Parse(m.Groups[4].Value);
        }
        return new WrkResult(req, non2xx, c, rd, w, t, r);
    }

    [GeneratedRegex(@"(\d+) requests in")] private static partial Regex Requests();
    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")] private static partial Regex Non2xx();
    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")] private static partial Regex SocketErrors();

    /// <summary>Runs `work` while sampling the RSS of `pid` every 20 ms; returns the work's result and the max RSS (KiB).</summary>
    public static async Task<(T Result, long MaxRssKb)> WithRssSampling<T>(Func<long> rss, Task<T> work)
    {
        long max = rss();
        while (!work.IsCompleted)
        {
            max = Math.Max(max, rss());
            await Task.WhenAny(work, Task.Delay(20));
        }
        max = Math.Max(max, rss());
        return (await work, max);
    }

    /// <summary>TCP echo round trip with half-close: send, shutdown(SHUT_WR), read everything, expect EOF.</summary>
    public static async Task<(byte[] Echoed, bool GotEof)> EchoWithHalfClose(int port, byte[] payload, TimeSpan idle)
    {
        using var s = await RawHttp.Connect(port);
        var read = RawHttp.ReadUntilCloseOrIdle(s, idle);
        var sent = 0;
        while (sent < payload.Length)
            sent += await s.SendAsync(payload.AsMemory(sent, Math.Min(65536, payload.Length - sent)), SocketFlags.None);
        s.Shutdown(SocketShutdown.Send);
        var (data, closed) = await read;
        return (data, closed);
    }

    public static byte[] Pattern(int size, int seed = 1)
    {
        var b = new byte[size];
        new Random(seed).NextBytes(b);
        return b;
    }
}
