namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// Expectations modelled on h2spec's verifiers. Each reads events until one decides, or the wait runs out.
/// One deliberate difference: h2spec keeps waiting after a GOAWAY/RST_STREAM carrying an error code it does
/// not accept (so a wrong code followed by a close still passes); here a wrong code fails at once, because
/// the code is what the probe is about.
/// </summary>
public sealed partial class ProbeSession
{
    private delegate Verdict Judge(H2Event ev);

    private enum Verdict { Continue, Pass, Fail }

    /// <summary>Reads events until <paramref name="judge"/> passes or fails one, or the wait ends (fail).</summary>
    private async Task<ProbeResult> Await(string expected, Judge judge)
    {
        var deadline = DateTime.UtcNow + Wait;
        var seen = new List<string>();
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var ev = await Conn.Next(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            var v = judge(ev);
            if (v == Verdict.Pass) return ProbeResult.Pass(expected, ev.ToString()!);
            if (v == Verdict.Fail || ev is H2Event.Timeout or H2Event.Closed)
            {
                seen.Add(ev.ToString()!);
                return ProbeResult.Fail(expected, string.Join("; ", seen.TakeLast(4)));
            }
            seen.Add(ev.ToString()!);
        }
    }

    private static string Codes(H2Error[] codes) => string.Join(" or ", codes);

    /// <summary>Connection error (§5.4.1): GOAWAY with one of <paramref name="codes"/>, or the connection closed.</summary>
    public Task<ProbeResult> ExpectConnectionError(params H2Error[] codes) =>
        Await($"GOAWAY ({Codes(codes)}) or connection close", ev => ev switch
        {
            H2Event.Closed => Verdict.Pass,
            H2Event.Frame { Value: { Type: FrameType.GoAway } f } => codes.Contains(f.ErrorCode ?? (H2Error)uint.MaxValue) ? Verdict.Pass : Verdict.Fail,
            _ => Verdict.Continue,
        });

    /// <summary>Stream error (§5.4.2): RST_STREAM with one of <paramref name="codes"/>; a connection error with one of them, or a close, also passes (as in h2spec).</summary>
    public Task<ProbeResult> ExpectStreamError(params H2Error[] codes) =>
        Await($"RST_STREAM or GOAWAY ({Codes(codes)}) or connection close", ev => ev switch
        {
            H2Event.Closed => Verdict.Pass,
            H2Event.Frame { Value: { Type: FrameType.GoAway or FrameType.RstStream } f } =>
                codes.Contains(f.ErrorCode ?? (H2Error)uint.MaxValue) ? Verdict.Pass : Verdict.Fail,
            _ => Verdict.Continue,
        });

    /// <summary>The peer closes the TCP connection (frames before the close, e.g. GOAWAY, are fine).</summary>
    public Task<ProbeResult> ExpectConnectionClose() =>
        Await("connection close", ev => ev is H2Event.Closed ? Verdict.Pass : Verdict.Continue);

    /// <summary>A response HEADERS frame on <paramref name="streamId"/>; a GOAWAY or RST_STREAM of that stream fails.</summary>
    public Task<ProbeResult> ExpectHeaders(uint streamId) =>
        Await($"HEADERS frame on stream {streamId}", ev => ev switch
        {
            H2Event.Frame { Value: { Type: FrameType.Headers } f } when f.StreamId == streamId => Verdict.Pass,
            H2Event.Frame { Value: { Type: FrameType.GoAway } } => Verdict.Fail,
            H2Event.Frame { Value: { Type: FrameType.RstStream } f } when f.StreamId == streamId => Verdict.Fail,
            _ => Verdict.Continue,
        });

    /// <summary>Some frame of <paramref name="type"/> (h2spec's VerifyEventType); other frames are skipped.</summary>
    public Task<ProbeResult> ExpectFrame(byte type) =>
        Await($"{FrameType.Name(type)} frame", ev => ev is H2Event.Frame { Value: var f } && f.Type == type ? Verdict.Pass : Verdict.Continue);

    /// <summary>PING with ACK echoing <paramref name="opaque"/> (§6.7); a PING echoing <paramref name="mustNotEcho"/> fails.</summary>
    public Task<ProbeResult> ExpectPingAck(byte[] opaque, byte[]? mustNotEcho = null, bool closeAlsoPasses = false) =>
        Await($"PING ACK echoing {Convert.ToHexString(opaque)}" + (closeAlsoPasses ? " or connection close" : ""), ev => ev switch
        {
            H2Event.Closed when closeAlsoPasses => Verdict.Pass,
            H2Event.Frame { Value: { Type: FrameType.Ping } f } when mustNotEcho != null && f.Payload.AsSpan().SequenceEqual(mustNotEcho) => Verdict.Fail,
            H2Event.Frame { Value: { Type: FrameType.Ping } f } when f.Has(FrameFlags.Ack) && f.Payload.AsSpan().SequenceEqual(opaque) => Verdict.Pass,
            _ => Verdict.Continue,
        });

    /// <summary>A SETTINGS frame with (or without) the ACK flag (§6.5.3).</summary>
    public Task<ProbeResult> ExpectSettings(bool ack) =>
        Await(ack ? "SETTINGS ACK" : "SETTINGS (not ACK)", ev =>
            ev is H2Event.Frame { Value: { Type: FrameType.Settings } f } && f.Has(FrameFlags.Ack) == ack ? Verdict.Pass : Verdict.Continue);

    /// <summary>The next DATA frame (on any stream, as h2spec's WaitEventByType) has exactly <paramref name="length"/> octets.</summary>
    public Task<ProbeResult> ExpectDataLength(int length) =>
        Await($"DATA frame of length {length}", ev => ev switch
        {
            H2Event.Frame { Value: { Type: FrameType.Data } f } => f.Payload.Length == length ? Verdict.Pass : Verdict.Fail,
            _ => Verdict.Continue,
        });

    /// <summary>The response ends: DATA or HEADERS with END_STREAM.</summary>
    public Task<ProbeResult> ExpectStreamEnd() =>
        Await("DATA or HEADERS with END_STREAM", ev =>
            ev is H2Event.Frame { Value: { Type: FrameType.Data or FrameType.Headers } f } && f.Has(FrameFlags.EndStream)
                ? Verdict.Pass : Verdict.Continue);
}

public sealed partial class ProbeSession
{
    /// <summary>A GOAWAY frame with <paramref name="code"/> specifically (a bare close does not pass).</summary>
    public Task<ProbeResult> ExpectGoAway(H2Error code) =>
        Await($"GOAWAY ({code})", ev => ev switch
        {
            H2Event.Frame { Value: { Type: FrameType.GoAway } f } => f.ErrorCode == code ? Verdict.Pass : Verdict.Fail,
            _ => Verdict.Continue,
        });

    /// <summary>A RST_STREAM frame for <paramref name="streamId"/> with <paramref name="code"/> specifically.</summary>
    public Task<ProbeResult> ExpectRstStream(uint streamId, H2Error code) =>
        Await($"RST_STREAM ({code}) on stream {streamId}", ev => ev switch
        {
            H2Event.Frame { Value: { Type: FrameType.RstStream } f } when f.StreamId == streamId => f.ErrorCode == code ? Verdict.Pass : Verdict.Fail,
            H2Event.Frame { Value: { Type: FrameType.GoAway } } => Verdict.Fail,
            _ => Verdict.Continue,
        });
}
