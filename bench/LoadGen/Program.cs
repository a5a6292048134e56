using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace Sidecar.Bench.LoadGen;

/// <summary>
/// loadgen --url http://127.0.0.1:PORT/PATH --rate 1000 --connections 16 --duration 10 [--warmup 1] [--out FILE]
/// Prints one JSON object: latency percentiles (µs, from intended send time), achieved rate, errors.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (!Options.TryParse(args, out var o, out var error))
        {
            await Console.Error.WriteLineAsync($"loadgen: {error}\n{Options.Usage}").ConfigureAwait(false);
            return 2;
        }
        var json = await RunAsync(o).ConfigureAwait(false);
        if (o.OutPath is null)
        {
            Console.WriteLine(json);
        }
        else
        {
            await File.WriteAllTextAsync(o.OutPath, json + "\n").ConfigureAwait(false);
        }
        return 0;
    }

    internal static async Task<string> RunAsync(Options o)
    {
        var request = Encoding.ASCII.GetBytes($"GET {o.Path} HTTP/1.1\r\nHost: {o.Host}:{o.Port}\r\n\r\n");
        var endpoint = new IPEndPoint(IPAddress.Parse(o.Host), o.Port);
        var freq = Stopwatch.Frequency;
        // Start far enough ahead that every connection is up before the first request is due.
        var start = Stopwatch.GetTimestamp() + freq / 2;
        var recordFrom = start + (long)(o.WarmupSeconds * freq);
        var conns = new LoadConnection[o.Connections];
        using var cts = new CancellationTokenSource();
        var connectErrors = 0;
        for (var i = 0; i < conns.Length; i++)
        {
            conns[i] = new LoadConnection(endpoint, request, recordFrom);
            try
            {
                conns[i].Connect();
            }
            catch (System.Net.Sockets.SocketException e)
            {
                await Console.Error.WriteLineAsync($"loadgen: connect to {endpoint} failed: {e.SocketErrorCode}").ConfigureAwait(false);
                connectErrors++;
            }
        }
        if (connectErrors == conns.Length)
        {
            throw new InvalidOperationException($"no connection to {endpoint} could be opened");
        }
        foreach (var c in conns)
        {
            new Thread(() => c.ReceiveLoop(cts.Token)) { IsBackground = true, Name = "receive" }.Start();
        }

        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var total = Schedule.RequestsIn(o.WarmupSeconds + o.DurationSeconds, o.Rate);
        var scheduler = new Thread(() => Dispatch(conns, start, total, o.Rate)) { IsBackground = true, Name = "schedule", Priority = ThreadPriority.Highest };
        scheduler.Start();
        scheduler.Join();
        var scheduleEnd = Schedule.IntendedTicks(start, total, o.Rate);

        // Drain: wait for outstanding responses, at most 5 s past the schedule.
        var deadline = Stopwatch.GetTimestamp() + 5 * freq;
        while (Stopwatch.GetTimestamp() < deadline && !Array.TrueForAll(conns, c => c.Idle))
        {
            await Task.Delay(5).ConfigureAwait(false);
        }
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        await cts.CancelAsync().ConfigureAwait(false);

        var latency = LatencySummary.NewHistogram();
        var lag = LatencySummary.NewHistogram();
        long submitted = 0, completed = 0, non2xx = 0, failed = 0, unfinished = 0, reconnects = 0, last = 0;
        foreach (var c in conns)
        {
            latency.Add(c.Latency);
            lag.Add(c.SendLag);
            submitted += c.Submitted;
            completed += c.Completed;
            non2xx += c.Non2xx;
            failed += c.Failed;
            unfinished += c.Outstanding;
            reconnects += c.Reconnects;
            last = Math.Max(last, c.LastCompletionTicks);
        }
        foreach (var c in conns)
        {
            c.Dispose();
        }
        var window = (double)(Math.Max(scheduleEnd, last) - recordFrom) / freq;
        return Report(o, LatencySummary.From(latency), LatencySummary.From(lag), submitted, completed, non2xx,
            failed + unfinished + connectErrors, reconnects, window, cpu);
    }

    /// <summary>The scheduling thread: wakes at each intended time and hands the request to its connection.</summary>
    private static void Dispatch(LoadConnection[] conns, long start, long total, double rate)
    {
        PreciseSleep.TightenTimerSlack();
        for (long i = 0; i < total; i++)
        {
            var intended = Schedule.IntendedTicks(start, i, rate);
            if (intended > Stopwatch.GetTimestamp())
            {
                PreciseSleep.Until(intended);
            }
            conns[i % conns.Length].Submit(intended);
        }
    }

    private static string Report(Options o, LatencySummary lat, LatencySummary lag, long submitted, long completed,
        long non2xx, long errors, long reconnects, double windowSeconds, TimeSpan cpu)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("tool", "sidecar-bench-loadgen (open loop, latency from intended send time)");
            w.WriteString("url", $"http://{o.Host}:{o.Port}{o.Path}");
            w.WriteNumber("target_rps", o.Rate);
            w.WriteNumber("connections", o.Connections);
            w.WriteNumber("duration_s", o.DurationSeconds);
            w.WriteNumber("warmup_s", o.WarmupSeconds);
            w.WriteNumber("submitted", submitted);
            w.WriteNumber("completed", completed);
            w.WriteNumber("achieved_rps", windowSeconds > 0 ? completed / windowSeconds : 0);
            w.WriteNumber("non2xx", non2xx);
            w.WriteNumber("errors", errors + non2xx);
            w.WriteNumber("reconnects", reconnects);
            w.WriteNumber("loadgen_cpu_percent", windowSeconds > 0 ? cpu.TotalSeconds * 100 / (windowSeconds + o.WarmupSeconds) : 0);
            WriteSummary(w, "latency_us", lat);
            WriteSummary(w, "send_lag_us", lag);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteSummary(Utf8JsonWriter w, string name, LatencySummary s)
    {
        w.WriteStartObject(name);
        w.WriteNumber("count", s.Count);
        w.WriteNumber("mean", Math.Round(s.Mean, 1));
        w.WriteNumber("p50", s.P50);
        w.WriteNumber("p90", s.P90);
        w.WriteNumber("p99", s.P99);
        w.WriteNumber("p999", s.P999);
        w.WriteNumber("max", s.Max);
        w.WriteEndObject();
    }
}

/// <summary>Command line of the generator.</summary>
internal sealed record Options(string Host, int Port, string Path, double Rate, int Connections, double DurationSeconds,
    double WarmupSeconds, string? OutPath)
{
    public const string Usage =
        "usage: loadgen --url http://127.0.0.1:PORT/PATH --rate RPS --connections N --duration SECONDS [--warmup SECONDS] [--out FILE]";

    public static bool TryParse(string[] args, out Options options, out string error)
    {
        options = new Options("127.0.0.1", 0, "/", 1000, 16, 10, 1, null);
        error = "";
        string? url = null;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            if (value is null)
            {
                error = $"{args[i]} needs a value";
                return false;
            }
            i++;
            switch (args[i - 1])
            {
                case "--url": url = value; break;
                case "--rate": options = options with { Rate = Number(value, ref error) }; break;
                case "--connections": options = options with { Connections = (int)Number(value, ref error) }; break;
                case "--duration": options = options with { DurationSeconds = Number(value, ref error) }; break;
                case "--warmup": options = options with { WarmupSeconds = Number(value, ref error) }; break;
                case "--out": options = options with { OutPath = value }; break;
                default: error = $"unknown option {args[i - 1]}"; return false;
            }
        }
        if (error.Length > 0)
        {
            return false;
        }
        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "http" || !IPAddress.TryParse(uri.Host, out _))
        {
            error = "--url must be http://<IPv4>:<port>/<path>";
            return false;
        }
        if (options.Rate <= 0 || options.Connections <= 0 || options.DurationSeconds <= 0 || options.WarmupSeconds < 0)
        {
            error = "--rate, --connections and --duration must be positive, --warmup not negative";
            return false;
        }
        options = options with { Host = uri.Host, Port = uri.Port, Path = uri.PathAndQuery };
        return true;
    }

    private static double Number(string s, ref string error)
    {
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
        {
            return v;
        }
        error = $"not a number: {s}";
        return 0;
    }
}
