using System.Diagnostics;
using System.IO.Pipelines;
using Sidecar.Core.Http2;
using Sidecar.Core.Telemetry;
using Xunit;

namespace Sidecar.Core.Tests.Http2;

/// <summary>
/// The CI flake "fresh h2c connection, curl exit 52": the heartbeat looks at a new downstream connection from
/// another thread while the connection sends its first SETTINGS. It judges "SETTINGS unacknowledged for longer than
/// SETTINGS_TIMEOUT" from two fields, acknowledged and sent-at; if it can see "not acknowledged" with the sent-at
/// time still 0 (never sent: ms since boot is far beyond 10 s), it declares SETTINGS_TIMEOUT and writes a GOAWAY —
/// possibly before the SETTINGS (curl: first frame not SETTINGS, exit 52; after them: exit 16). A loop thread
/// preempted between the two writes on a loaded machine holds that state open for a whole time slice.
/// </summary>
public sealed class SettingsTimeoutRaceTests
{
    private static readonly Http2ConnectionOptions Defaults = new();

    /// <summary>The fields the heartbeat reads, with its test (Http2ProxyConnection.OnHeartbeat).</summary>
    private sealed class Probe(PipeWriter output, Http2Stats stats) : Http2Connection(new Pipe().Reader, output, Defaults, stats, isServer: true)
    {
        public void SendSettings() => SendInitialSettings();

        public bool HeartbeatSeesTimeout(long nowMs) => !SettingsAcked && nowMs - SettingsSentAtMs > (long)Options.SettingsTimeout.TotalMilliseconds;

        protected override void Recycle(Http2Stream stream) { }
        protected override Http2Stream? AcceptStream(int streamId) => null;
    }

    [Fact]
    public void A_heartbeat_never_sees_a_settings_timeout_on_a_connection_that_is_sending_its_first_settings()
    {
        var stats = new Http2Stats(new StatsStore(), "race.");
        PipeWriter sink = PipeWriter.Create(Stream.Null);
        Probe? current = null;
        long seen = 0, looks = 0;
        bool stop = false;
        var heartbeat = new Thread(() =>
        {
            long now = Environment.TickCount64; // a heartbeat's tick time; read once so the loop looks as often as it can
            while (!Volatile.Read(ref stop))
            {
                Probe? p = Volatile.Read(ref current);
                if (p is null) continue;
                looks++;
                if (p.HeartbeatSeesTimeout(now)) seen++;
            }
        }) { IsBackground = true };
        heartbeat.Start();
        var clock = Stopwatch.StartNew();
        int connections = 0;
        // Both threads need a core each at the same moment: run for a while, stop at the first sighting.
        while (clock.Elapsed < TimeSpan.FromSeconds(5) && Volatile.Read(ref seen) == 0)
        {
            var p = new Probe(sink, stats);
            Volatile.Write(ref current, p);
            p.SendSettings();
            connections++;
            p.Dispose();
        }
        Volatile.Write(ref stop, true);
        heartbeat.Join();
        Assert.True(seen == 0, $"the heartbeat saw SETTINGS_TIMEOUT on a connection sending its SETTINGS ({seen} of {looks} looks, {connections} connections)");
    }
}
