using System.Globalization;
using System.Text.RegularExpressions;

namespace Sidecar.Core.Tests.Http1;

/// <summary>
/// Reduces an llhttp expected callback log to a <see cref="ParseTranscript"/>. Span contents are
/// taken from the input by their off/len (the log's quoted rendering is display-only), and
/// consecutive spans of one kind are joined, as llhttp may report a value in pieces.
/// </summary>
internal static partial class LlhttpLog
{
    [GeneratedRegex(@"^off=(\d+) len=(\d+) span\[(\w+)\]=")]
    private static partial Regex SpanLine();

    [GeneratedRegex(@"^off=(\d+) headers complete (?:method=\d+|status=(\d+)) v=(\d+)/(\d+)")]
    private static partial Regex HeadersCompleteLine();

    [GeneratedRegex(@"^off=(\d+) error code=(\d+) reason=""(.*)""$")]
    private static partial Regex ErrorLine();

    [GeneratedRegex(@"^off=NULL finish=(\d+)$")]
    private static partial Regex FinishLine();

    public static ParseTranscript ToTranscript(LlhttpCase c)
    {
        var t = new ParseTranscript();
        // Per message under construction.
        string method = "", url = "", protocol = "", version = "", reason = "";
        var headers = new List<(string Name, string Value)>();
        MessageTranscript? current = null;
        bool begun = false;
        string lastKind = "";
        long headersCompleteOffset = -1;

        foreach (string line in c.Log)
        {
            Match m;
            if (line.EndsWith(" message begin", StringComparison.Ordinal))
            {
                begun = true;
                current = null;
                method = url = protocol = version = reason = "";
                headers.Clear();
                lastKind = "";
            }
            else if ((m = SpanLine().Match(line)).Success)
            {
                int off = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                int len = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                string kind = m.Groups[3].Value;
                ReadOnlySpan<byte> bytes = c.Input.AsSpan(off, len);
                string text = ParseTranscript.Latin1(bytes);
                bool cont = kind == lastKind;
                lastKind = kind;
                switch (kind)
                {
                    case "method": method += text; break;
                    case "url": url += text; break;
                    case "protocol": protocol += text; break;
                    case "version": version += text; break;
                    case "status": reason += text; break;
                    case "body": current?.Body.AddRange(bytes.ToArray()); break;
                    case "header_field":
                        if (cont && headers.Count > 0) headers[^1] = (headers[^1].Name + text, headers[^1].Value);
                        else headers.Add((text, ""));
                        break;
                    case "header_value":
                        if (headers.Count > 0) headers[^1] = (headers[^1].Name, headers[^1].Value + text);
                        break;
                }
            }
            else if (line.EndsWith(" complete", StringComparison.Ordinal) && !line.Contains("message complete", StringComparison.Ordinal))
            {
                // "header_field complete" etc.: a following span of the same kind is a new item.
                lastKind = "";
            }
            else if ((m = HeadersCompleteLine().Match(line)).Success)
            {
                headersCompleteOffset = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                current = new MessageTranscript();
                string v = $"{protocol}/{m.Groups[3].Value}.{m.Groups[4].Value}";
                current.StartLine = m.Groups[2].Success
                    ? $"{v} {m.Groups[2].Value} {reason}".TrimEnd()
                    : $"{method} {url} {v}";
                foreach ((string n, string val) in headers) current.Headers.Add(Field(n, val));
                headers.Clear();
                t.Messages.Add(current);
                lastKind = "";
            }
            else if (line.EndsWith(" message complete", StringComparison.Ordinal))
            {
                if (current is not null)
                {
                    // Header spans after "headers complete" are the trailer section.
                    foreach ((string n, string val) in headers) current.Trailers.Add(Field(n, val));
                    headers.Clear();
                    current.Complete = true;
                }
                begun = false;
            }
            else if ((m = ErrorLine().Match(line)).Success)
            {
                int code = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                long off = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                // 22 = HPE_PAUSED_UPGRADE, 23 = HPE_PAUSED_H2_UPGRADE: not errors, the protocol changes.
                TranscriptEnd end = code is 22 or 23 ? TranscriptEnd.Upgrade : TranscriptEnd.Error;
                bool inBody = current is not null && !current.Complete && begun;
                if (inBody && current!.Body.Count == 0 && off == headersCompleteOffset && end == TranscriptEnd.Error)
                {
                    // llhttp reports framing errors (bad Transfer-Encoding) right after "headers complete";
                    // that is a refusal of the head, which is how a head parser reports it.
                    t.Messages.RemoveAt(t.Messages.Count - 1);
                    inBody = false;
                }
                int index = end == TranscriptEnd.Upgrade ? t.Messages.Count - 1 : (inBody ? t.Messages.Count - 1 : t.Messages.Count);
                t.SetEnd(end, index, inBody, off, $"code={code} {m.Groups[3].Value}");
                return t;
            }
            else if ((m = FinishLine().Match(line)).Success)
            {
                // llhttp_finish: 0 = safe, 1 = safe and completes an until-close message, 2 = unsafe (error).
                int finish = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                if (finish == 1 && current is not null) current.Complete = true;
                if (finish == 2)
                {
                    bool inBody = current is not null && !current.Complete;
                    t.SetEnd(TranscriptEnd.Error, inBody ? t.Messages.Count - 1 : t.Messages.Count, inBody, c.Input.Length, "finish=2");
                }
                return t;
            }
        }
        return t;
    }

    /// <summary>"Name: value" with the value's OWS trimmed (RFC 9112 §5: OWS is not part of the value).</summary>
    public static string Field(string name, string value) => $"{name}: {value.Trim(' ', '\t')}";
}
