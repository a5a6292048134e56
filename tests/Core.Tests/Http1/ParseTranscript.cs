using System.Text;

namespace Sidecar.Core.Tests.Http1;

/// <summary>How a parse of a whole input ended.</summary>
internal enum TranscriptEnd
{
    /// <summary>Input ran out (possibly mid-message) without an error.</summary>
    Open,
    Error,
    /// <summary>CONNECT / Upgrade / 101: the connection stops being HTTP/1 (llhttp pauses with code 22).</summary>
    Upgrade,
}

internal sealed class MessageTranscript
{
    public string StartLine = "";
    public readonly List<string> Headers = [];
    public readonly List<string> Trailers = [];
    public readonly List<byte> Body = [];
    public bool Complete;
}

/// <summary>
/// A parser-neutral record of what was understood from an input: per message the start line,
/// header fields, body bytes, trailers and completion, then how parsing ended. Both the llhttp
/// expected log and our driver are reduced to this, so agreement is a string comparison.
/// Error offsets are kept for diagnostics only: we are line-granular, llhttp is byte-granular,
/// so "where" is compared as (message index, head or body).
/// </summary>
internal sealed class ParseTranscript
{
    public readonly List<MessageTranscript> Messages = [];
    public TranscriptEnd End;
    public int EndMessage;
    public bool EndInBody;
    public long EndOffset = -1;
    public string EndDetail = "";
    /// <summary>Requests our parser rejected as MissingHost that the driver was told to tolerate.</summary>
    public int MissingHost;

    public bool IsError => End == TranscriptEnd.Error;

    public void SetEnd(TranscriptEnd end, int message, bool inBody, long offset, string detail)
    {
        End = end;
        EndMessage = message;
        EndInBody = inBody;
        EndOffset = offset;
        EndDetail = detail;
    }

    /// <summary>Canonical text without offsets or error codes (those are parser-specific).</summary>
    public string Canonical()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < Messages.Count; i++)
        {
            MessageTranscript m = Messages[i];
            sb.Append("msg").Append(i).Append(": ").Append(m.StartLine).Append('\n');
            foreach (string h in m.Headers) sb.Append("  h ").Append(h).Append('\n');
            if (m.Body.Count > 0) sb.Append("  body ").Append(Escape(m.Body)).Append('\n');
            foreach (string t in m.Trailers) sb.Append("  t ").Append(t).Append('\n');
            if (m.Complete) sb.Append("  complete\n");
        }
        sb.Append("end: ").Append(End);
        if (End != TranscriptEnd.Open) sb.Append(" msg").Append(EndMessage).Append(EndInBody ? "/body" : "/head");
        return sb.ToString();
    }

    public string Describe() => Canonical() + $" (off={EndOffset} {EndDetail})";

    public static string Latin1(ReadOnlySpan<byte> b) => Encoding.Latin1.GetString(b);

    private static string Escape(List<byte> bytes)
    {
        var sb = new StringBuilder();
        foreach (byte b in bytes)
        {
            if (b >= 0x20 && b < 0x7F && b != '\\') sb.Append((char)b);
            else sb.Append("\\x").Append(b.ToString("x2"));
        }
        return sb.ToString();
    }
}
