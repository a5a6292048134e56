using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Sidecar.Bench.LoadGen;

/// <summary>
/// The open-loop schedule: request i is due at start + i / rate, whatever happened to earlier
/// requests. Connection c of N gets requests c, c+N, c+2N, ... so each connection's sends are evenly
/// spread (Fortio's -uniform) and no connection ever pipelines.
/// </summary>
internal static class Schedule
{
    /// <summary>Intended send time of request <paramref name="index"/>, in Stopwatch ticks.</summary>
    public static long IntendedTicks(long startTicks, long index, double ratePerSecond) =>
        startTicks + (long)(index * (Stopwatch.Frequency / ratePerSecond));

    /// <summary>Number of requests due in [start, start + seconds).</summary>
    public static long RequestsIn(double seconds, double ratePerSecond) => (long)Math.Ceiling(seconds * ratePerSecond);
}

/// <summary>
/// Sleeps until an absolute Stopwatch time with clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), which
/// is the clock Stopwatch reads on Linux; timer slack is set to 1 ns so wake-ups are not batched by the
/// default 50 µs slack. Thread.Sleep's millisecond granularity would add up to 1 ms to every latency.
/// </summary>
internal static partial class PreciseSleep
{
    private const int ClockMonotonic = 1;
    private const int TimerAbstime = 1;
    private const int PrSetTimerslack = 29;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clock, int flags, in Timespec request, IntPtr remain);

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    private static readonly bool NanosecondTicks = Stopwatch.Frequency == 1_000_000_000 && OperatingSystem.IsLinux();

    /// <summary>Call once on the scheduling thread (timer slack is per thread).</summary>
    public static void TightenTimerSlack()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = Prctl(PrSetTimerslack, 1, 0, 0, 0);
        }
    }

    public static void Until(long ticks)
    {
        if (NanosecondTicks)
        {
            var ts = new Timespec { Seconds = ticks / 1_000_000_000, Nanoseconds = ticks % 1_000_000_000 };
            while (ClockNanosleep(ClockMonotonic, TimerAbstime, ts, IntPtr.Zero) == 4)
            {
                // EINTR: sleep again to the same absolute time
            }
            return;
        }
        var wait = ticks - Stopwatch.GetTimestamp();
        if (wait > 0)
        {
            Thread.Sleep(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
        }
    }
}
