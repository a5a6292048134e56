using System.Net;
using System.Net.Sockets;

namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// Deliberately broken in-process "servers" for the suite's self-tests: they prove the probes can fail
/// (a probe that passes against these for the wrong reason would pass against anything).
/// </summary>
public sealed class FakeH2Server : IAsyncDisposable
{
    public enum Behaviour
    {
        /// <summary>Accepts and closes at once, before any HTTP/2 is spoken.</summary>
        HangUp,
        /// <summary>Sends SETTINGS, acknowledges SETTINGS, answers PING — and ignores everything else, even gross errors.</summary>
        IgnoresErrors,
    }

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly Behaviour _behaviour;
    public int Port { get; }

    public FakeH2Server(Behaviour behaviour)
    {
        _behaviour = behaviour;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = Task.Run(AcceptLoop);
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket s;
            try { s = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (Exception) { return; }
            if (_behaviour == Behaviour.HangUp) { s.Dispose(); continue; }
            _ = Task.Run(() => Serve(s));
        }
    }

    private async Task Serve(Socket s)
    {
        using var _ = s;
        try
        {
            var preface = new byte[H2ProbeConnection.Preface.Length];
            if (!await ReadExactly(s, preface)) return;
            await s.SendAsync(new byte[] { 0, 0, 0, FrameType.Settings, 0, 0, 0, 0, 0 }, SocketFlags.None);
            var header = new byte[9];
            while (await ReadExactly(s, header))
            {
                var payload = new byte[header[0] << 16 | header[1] << 8 | header[2]];
                if (!await ReadExactly(s, payload)) return;
                byte type = header[3], flags = header[4];
                if (type == FrameType.Settings && (flags & FrameFlags.Ack) == 0)
                    await s.SendAsync(new byte[] { 0, 0, 0, FrameType.Settings, FrameFlags.Ack, 0, 0, 0, 0 }, SocketFlags.None);
                else if (type == FrameType.Ping && (flags & FrameFlags.Ack) == 0 && payload.Length == 8)
                    await s.SendAsync((byte[])[0, 0, 8, FrameType.Ping, FrameFlags.Ack, 0, 0, 0, 0, .. payload], SocketFlags.None);
            }
        }
        catch (Exception) { /* client went away */ }
    }

    private async Task<bool> ReadExactly(Socket s, byte[] into)
    {
        for (int got = 0; got < into.Length;)
        {
            var n = await s.ReceiveAsync(into.AsMemory(got), SocketFlags.None, _stop.Token);
            if (n == 0) return false;
            got += n;
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _accepting; } catch (Exception) { }
        _stop.Dispose();
    }
}
