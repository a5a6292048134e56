using System.Buffers;
using System.Text;
using Sidecar.Core.Http1;

namespace Sidecar.Core.Tests.Http1;

/// <summary>Small helpers for unit tests: parse one head or decode one chunked body from text.</summary>
internal static class Http1Parse
{
    public static (Http1ParseStatus Status, Http1Error Error, Http1Head Head) Request(string text, Http1Limits? limits = null) =>
        Head(text, isRequest: true, limits);

    public static (Http1ParseStatus Status, Http1Error Error, Http1Head Head) Response(string text) => Head(text, isRequest: false, null);

    public static Http1Error RequestError(string text) => Request(text).Error;

    private static (Http1ParseStatus, Http1Error, Http1Head) Head(string text, bool isRequest, Http1Limits? limits)
    {
        var head = new Http1Head();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text)));
        Http1Limits l = limits ?? Http1Limits.Default;
        Http1ParseStatus s = isRequest
            ? Http1HeadParser.ParseRequest(ref reader, head, l, out Http1Error e)
            : Http1HeadParser.ParseResponse(ref reader, head, l, out e);
        return (s, e, head);
    }

    /// <summary>Decodes a chunked body; returns the payload, trailer lines and the final status.</summary>
    public static (ChunkedStatus Status, Http1Error Error, string Body, List<string> Trailers) Chunked(string text)
    {
        var decoder = new ChunkedDecoder();
        var reader = new SequenceReader<byte>(TestSequence.PerByte(Encoding.Latin1.GetBytes(text)));
        var body = new StringBuilder();
        var trailers = new List<string>();
        while (true)
        {
            ChunkedStatus s = decoder.Read(ref reader, out ReadOnlySequence<byte> data, out Http1Error e);
            switch (s)
            {
                case ChunkedStatus.Data: body.Append(Encoding.Latin1.GetString(data.ToArray())); break;
                case ChunkedStatus.Trailer: trailers.Add(Encoding.Latin1.GetString(data.ToArray())); break;
                default: return (s, e, body.ToString(), trailers);
            }
        }
    }
}
