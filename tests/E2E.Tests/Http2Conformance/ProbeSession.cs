namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// What a probe works with: a fresh raw connection to the target, request header helpers, and the
/// expectations (in ProbeSession.Expect.cs) modelled on h2spec's verifiers.
/// </summary>
public sealed partial class ProbeSession(H2ProbeConnection conn)
{
    public H2ProbeConnection Conn { get; } = conn;
    public ConformanceTarget Target => Conn.Target;
    private TimeSpan Wait => Conn.WaitTimeout;

    /// <summary>h2spec's dummy header value length (its default max header length).</summary>
    public const int DummyHeaderLength = 4000;

    /// <summary>Client preface + empty SETTINGS; waits for the server's SETTINGS (acknowledged by the reader) and the ACK of ours (§3.4, §6.5.3).</summary>
    public async Task Handshake()
    {
        Conn.Send(H2ProbeConnection.Preface);
        Conn.WriteSettings();
        bool gotSettings = false, gotAck = false;
        var deadline = DateTime.UtcNow + Wait;
        var seen = new List<string>();
        while (!(gotSettings && gotAck))
        {
            var left = deadline - DateTime.UtcNow;
            var ev = await Conn.Next(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            seen.Add(ev.ToString()!);
            switch (ev)
            {
                case H2Event.Frame { Value: { Type: FrameType.Settings } f } when f.Has(FrameFlags.Ack):
                    gotAck = true;
                    break;
                case H2Event.Frame { Value: { Type: FrameType.Settings } f }:
                    for (int i = 0; i + 6 <= f.Payload.Length; i += 6)
                        Conn.ServerSettings[(ushort)(f.Payload[i] << 8 | f.Payload[i + 1])] = H2Frame.ReadUInt32(f.Payload, i + 2);
                    gotSettings = true;
                    break;
                case H2Event.Frame:
                    break; // e.g. a WINDOW_UPDATE after the server's SETTINGS
                default:
                    throw new ProbeStepFailedException(ProbeResult.Fail("handshake: server SETTINGS and SETTINGS ACK", string.Join("; ", seen)));
            }
        }
    }

    /// <summary>:method, :scheme, :path, :authority for the configured target (h2spec's "common headers").</summary>
    public List<(string Name, string Value)> CommonHeaders(string method = "GET") =>
        [(":method", method), (":scheme", "http"), (":path", Target.Path), (":authority", Target.Authority)];

    public byte[] CommonBlock(string method = "GET") => ProbeHpack.Encode(CommonHeaders(method));

    /// <summary><paramref name="count"/> headers "x-dummyN" of <see cref="DummyHeaderLength"/> octets each.</summary>
    public static List<(string Name, string Value)> DummyHeaders(int count)
    {
        var l = new List<(string, string)>();
        for (int i = 0; i < count; i++) l.Add(($"x-dummy{i}", new string('x', DummyHeaderLength)));
        return l;
    }

    public static byte[] Block(params (string Name, string Value)[] fields) => ProbeHpack.Encode(fields);

    /// <summary>A complete GET on <paramref name="streamId"/> (one HEADERS, END_STREAM + END_HEADERS).</summary>
    public void Get(uint streamId) => Conn.WriteHeaders(streamId, endStream: true, endHeaders: true, CommonBlock());

    /// <summary>POST request headers without END_STREAM (body follows in DATA frames).</summary>
    public void PostHeaders(uint streamId, params (string Name, string Value)[] extra)
    {
        var h = CommonHeaders("POST");
        h.AddRange(extra);
        Conn.WriteHeaders(streamId, endStream: false, endHeaders: true, ProbeHpack.Encode(h));
    }

    /// <summary>Runs an intermediate expectation; a failure ends the probe with that result.</summary>
    public static async Task Must(Task<ProbeResult> step)
    {
        var r = await step;
        if (!r.Passed) throw new ProbeStepFailedException(r);
    }
}
