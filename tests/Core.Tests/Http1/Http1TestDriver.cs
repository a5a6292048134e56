using System.Buffers;
using Sidecar.Core.Http;
using Sidecar.Core.Http1;

namespace Sidecar.Core.Tests.Http1;

/// <summary>
/// Test-side connection loop over our codec: heads via <see cref="Http1HeadParser"/>, bodies by
/// framing (Content-Length, chunked via <see cref="ChunkedDecoder"/>, until-close for responses,
/// none), pipelined messages, and a pipe-like delivery where each read sees the unconsumed rest
/// of earlier reads plus the new bytes as a multi-segment sequence.
/// </summary>
internal sealed class Http1TestDriver
{
    private enum Mode { Head, ContentLength, Chunked, UntilClose, Closed, Stopped }

    private readonly bool _isRequest;
    private readonly KnownMethod _requestMethod;
    private readonly Http1Head _head = new();
    private ChunkedDecoder _chunked;
    private Mode _mode = Mode.Head;
    private long _remaining;
    private MessageTranscript? _current;
    private bool _upgradeAfterBody;
    private bool _keepAlive;
    private readonly bool _tolerateMissingHost;

    /// <summary>Requests that were accepted only because MissingHost was tolerated.</summary>
    public int MissingHostCount { get; private set; }

    public ParseTranscript Transcript { get; } = new();

    private Http1TestDriver(bool isRequest, KnownMethod requestMethod, bool tolerateMissingHost)
    {
        _tolerateMissingHost = tolerateMissingHost;
        _isRequest = isRequest;
        _requestMethod = requestMethod;
    }

    /// <summary>Runs the input delivered in pieces ending at <paramref name="cuts"/> (then the rest).</summary>
    public static ParseTranscript Run(
        byte[] input, bool isRequest, bool finish, int[] cuts, KnownMethod requestMethod = KnownMethod.Get,
        bool tolerateMissingHost = false, bool singleRead = false)
    {
        var d = new Http1TestDriver(isRequest, requestMethod, tolerateMissingHost);
        ReadOnlySequence<byte> all = TestSequence.Split(input, cuts);
        long consumed = 0;
        foreach (int end in singleRead ? [input.Length] : cuts.Append(input.Length))
        {
            var reader = new SequenceReader<byte>(all.Slice(consumed, end - consumed));
            d.Pump(ref reader, consumed);
            consumed += reader.Consumed;
            if (d.Stopped) break;
        }
        if (finish && !d.Stopped) d.Finish(consumed, input.Length);
        d._head.Dispose();
        d.Transcript.MissingHost = d.MissingHostCount;
        return d.Transcript;
    }

    private bool Stopped => _mode == Mode.Stopped;

    private void Pump(ref SequenceReader<byte> reader, long baseOffset)
    {
        while (!Stopped)
        {
            switch (_mode)
            {
                case Mode.Head:
                {
                    if (reader.End) return;
                    Http1ParseStatus s = _isRequest
                        ? Http1HeadParser.ParseRequest(ref reader, _head, Http1Limits.Default, out Http1Error e)
                        : Http1HeadParser.ParseResponse(ref reader, _head, Http1Limits.Default, out e);
                    if (s == Http1ParseStatus.Incomplete) return;
                    if (s == Http1ParseStatus.Error && e == Http1Error.MissingHost && _tolerateMissingHost)
                    {
                        // llhttp never checks Host (RFC 9112 §3.2 makes us reject it). MissingHost is
                        // reported only after the head is fully parsed and framed, so the conformance
                        // run notes it and compares everything else.
                        MissingHostCount++;
                        s = Http1ParseStatus.Complete;
                    }
                    if (s == Http1ParseStatus.Error)
                    {
                        Stop(TranscriptEnd.Error, inBody: false, baseOffset + reader.Consumed, e.ToString());
                        return;
                    }
                    OnHead();
                    break;
                }
                case Mode.ContentLength:
                {
                    if (reader.End) return;
                    long take = Math.Min(_remaining, reader.Remaining);
                    _current!.Body.AddRange(reader.UnreadSequence.Slice(0, take).ToArray());
                    reader.Advance(take);
                    _remaining -= take;
                    if (_remaining == 0) OnMessageComplete();
                    break;
                }
                case Mode.Chunked:
                {
                    ChunkedStatus cs = _chunked.Read(ref reader, out ReadOnlySequence<byte> data, out Http1Error e);
                    switch (cs)
                    {
                        case ChunkedStatus.NeedMore: return;
                        case ChunkedStatus.Data: _current!.Body.AddRange(data.ToArray()); break;
                        case ChunkedStatus.Trailer: _current!.Trailers.Add(TrailerField(data)); break;
                        case ChunkedStatus.Done: OnMessageComplete(); break;
                        default: Stop(TranscriptEnd.Error, inBody: true, baseOffset + reader.Consumed, e.ToString()); return;
                    }
                    break;
                }
                case Mode.UntilClose:
                    _current!.Body.AddRange(reader.UnreadSequence.ToArray());
                    reader.Advance(reader.Remaining);
                    return;
                case Mode.Closed:
                    // RFC 9112 §9.6: after "close" nothing more is read; bytes still arriving are an error.
                    if (reader.End) return;
                    Stop(TranscriptEnd.Error, inBody: false, baseOffset + reader.Consumed, "DataAfterClose");
                    return;
            }
        }
    }

    private void OnHead()
    {
        Http1Head h = _head;
        _current = new MessageTranscript();
        string version = h.Version == Http1Version.Http11 ? "HTTP/1.1" : "HTTP/1.0";
        _current.StartLine = _isRequest
            ? $"{ParseTranscript.Latin1(h.Method)} {ParseTranscript.Latin1(h.Target)} {version}"
            : $"{version} {h.StatusCode} {ParseTranscript.Latin1(h.Reason)}".TrimEnd();
        for (int i = 0; i < h.HeaderCount; i++)
        {
            _current.Headers.Add(LlhttpLog.Field(ParseTranscript.Latin1(h.GetHeaderName(i)), ParseTranscript.Latin1(h.GetHeaderValue(i))));
        }
        Transcript.Messages.Add(_current);
        _keepAlive = h.KeepAlive;

        BodyFraming framing;
        if (_isRequest)
        {
            // CONNECT's payload is tunnel data, not a body (RFC 9110 §9.3.6).
            if (h.IsConnect)
            {
                _current.Complete = true;
                Stop(TranscriptEnd.Upgrade, inBody: false, -1, "CONNECT");
                return;
            }
            _upgradeAfterBody = h.IsUpgradeRequest;
            framing = h.Framing;
        }
        else
        {
            framing = Http1HeadParser.ResponseFraming(h, _requestMethod);
            if (h.StatusCode == 101)
            {
                _current.Complete = true;
                Stop(TranscriptEnd.Upgrade, inBody: false, -1, "101");
                return;
            }
        }

        switch (framing)
        {
            case BodyFraming.ContentLength:
                _remaining = h.ContentLength;
                _mode = Mode.ContentLength;
                break;
            case BodyFraming.Chunked:
                _chunked.Reset();
                _mode = Mode.Chunked;
                break;
            case BodyFraming.UntilClose:
                _mode = Mode.UntilClose;
                break;
            default:
                OnMessageComplete();
                break;
        }
    }

    private void OnMessageComplete()
    {
        _current!.Complete = true;
        if (_upgradeAfterBody)
        {
            Stop(TranscriptEnd.Upgrade, inBody: false, -1, "Upgrade");
            return;
        }
        // Interim 1xx responses do not end the exchange and carry no connection semantics.
        bool interim = !_isRequest && _head.StatusCode is >= 100 and < 200;
        _head.Reset();
        _mode = _keepAlive || interim ? Mode.Head : Mode.Closed;
    }

    private void Finish(long offset, long length)
    {
        switch (_mode)
        {
            case Mode.UntilClose:
                _current!.Complete = true;
                break;
            case Mode.ContentLength:
            case Mode.Chunked:
                Stop(TranscriptEnd.Error, inBody: true, offset, "UnexpectedEndOfInput");
                break;
            case Mode.Head when _head.HeadBytes > 0 || offset < length:
                Stop(TranscriptEnd.Error, inBody: false, offset, "UnexpectedEndOfInput");
                break;
        }
    }

    private void Stop(TranscriptEnd end, bool inBody, long offset, string detail)
    {
        int index = Transcript.Messages.Count - (inBody || end == TranscriptEnd.Upgrade ? 1 : 0);
        Transcript.SetEnd(end, index, inBody, offset, detail);
        _mode = Mode.Stopped;
    }

    private static string TrailerField(ReadOnlySequence<byte> line)
    {
        string s = ParseTranscript.Latin1(line.ToArray()).TrimEnd('\r', '\n');
        int colon = s.IndexOf(':', StringComparison.Ordinal);
        return LlhttpLog.Field(s[..colon], s[(colon + 1)..]);
    }
}
