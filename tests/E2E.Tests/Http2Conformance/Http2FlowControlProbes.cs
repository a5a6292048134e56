using static Sidecar.E2E.Tests.Http2Conformance.H2Error;

namespace Sidecar.E2E.Tests.Http2Conformance;

/// <summary>
/// h2spec "http2/6.9*": WINDOW_UPDATE validation and flow-control windows (RFC 9113 §6.9, §6.9.1, §6.9.2).
/// The window probes need a response body of at least 5 octets on the target path.
/// </summary>
public static class Http2FlowControlProbes
{
    private const uint MaxWindow = 2147483647; // 2^31-1, §6.9.1

    public static void AddTo(ProbeCatalog c)
    {
        // 6.9 — WINDOW_UPDATE
        c.Add("http2/6.9", "Sends a WINDOW_UPDATE frame with a flow control window increment of 0", async s =>
        {
            await s.Handshake();
            s.Conn.WriteWindowUpdate(0, 0);
            return await s.ExpectConnectionError(ProtocolError);
        });
        c.Add("http2/6.9", "Sends a WINDOW_UPDATE frame with a flow control window increment of 0 on a stream", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, false, true, s.CommonBlock());
            s.Conn.WriteWindowUpdate(1, 0);
            return await s.ExpectStreamError(ProtocolError);
        });
        c.Add("http2/6.9", "Sends a WINDOW_UPDATE frame with a length other than 4 octets", async s =>
        {
            await s.Handshake();
            s.Conn.WriteFrame(FrameType.WindowUpdate, 0, 0, [0, 0, 1]);
            return await s.ExpectConnectionError(FrameSizeError);
        });

        // 6.9.1 — the flow-control window
        c.Add("http2/6.9.1", "Sends SETTINGS frame to set the initial window size to 1 and sends HEADERS frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteSettings((SettingId.InitialWindowSize, 1));
            await ProbeSession.Must(s.ExpectSettings(ack: true));
            s.Get(1);
            return await s.ExpectDataLength(1);
        });
        c.Add("http2/6.9.1", "Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1", async s =>
        {
            await s.Handshake();
            s.Conn.WriteWindowUpdate(0, MaxWindow);
            s.Conn.WriteWindowUpdate(0, MaxWindow);
            return await s.ExpectGoAway(FlowControlError);
        });
        c.Add("http2/6.9.1", "Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1 on a stream", async s =>
        {
            await s.Handshake();
            s.Conn.WriteHeaders(1, false, true, s.CommonBlock());
            s.Conn.WriteWindowUpdate(1, MaxWindow);
            s.Conn.WriteWindowUpdate(1, MaxWindow);
            return await s.ExpectRstStream(1, FlowControlError);
        });

        // 6.9.2 — initial window size changes apply to open streams, including going negative
        c.Add("http2/6.9.2", "Changes SETTINGS_INITIAL_WINDOW_SIZE after sending HEADERS frame", async s =>
        {
            await s.Handshake();
            s.Conn.WriteSettings((SettingId.InitialWindowSize, 0));
            await ProbeSession.Must(s.ExpectSettings(ack: true));
            s.Get(1);
            s.Conn.WriteSettings((SettingId.InitialWindowSize, 1));
            await ProbeSession.Must(s.ExpectSettings(ack: true));
            return await s.ExpectDataLength(1);
        });
        c.Add("http2/6.9.2", "Sends a SETTINGS frame for window size to be negative", async s =>
        {
            await s.Handshake();
            s.Conn.WriteSettings((SettingId.InitialWindowSize, 3));
            await ProbeSession.Must(s.ExpectSettings(ack: true));
            s.Get(1);
            await ProbeSession.Must(s.ExpectFrame(FrameType.Data)); // the 3 octets the window allows
            s.Conn.WriteSettings((SettingId.InitialWindowSize, 2)); // window 0 → -1
            await ProbeSession.Must(s.ExpectSettings(ack: true));
            s.Conn.WriteWindowUpdate(1, 2); // -1 + 2 = 1
            return await s.ExpectDataLength(1);
        });
        c.Add("http2/6.9.2", "Sends a SETTINGS_INITIAL_WINDOW_SIZE settings with an exceeded maximum window size value", async s =>
        {
            await s.Handshake();
            s.Conn.WriteSettings((SettingId.InitialWindowSize, MaxWindow + 1));
            return await s.ExpectConnectionError(FlowControlError);
        });
    }
}
