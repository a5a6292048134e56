using System.Buffers;
using Sidecar.Core.Http;

namespace Sidecar.Core.Http1;

public enum Http1ParseStatus : byte { Incomplete, Complete, Error }

/// <summary>Explicit limits applied while parsing, before any byte is kept (Envoy defaults: 60 KiB, 100 headers).</summary>
public readonly record struct Http1Limits(int MaxHeadBytes, int MaxHeaderCount)
{
    public static Http1Limits Default => new(60 * 1024, 100);
}

/// <summary>
/// Strict RFC 9112 head parser. Resumable at line granularity: every complete line is consumed
/// from the reader and copied into the <see cref="Http1Head"/>, so a head split across reads
/// continues where it stopped, and the caller may advance the pipe past consumed lines.
/// </summary>
public static class Http1HeadParser
{
    internal enum Stage : byte { StartLine, Headers, Done }

    /// <summary>RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.</summary>
    private const int MaxLeadingEmptyLines = 8;

    public static Http1ParseStatus ParseRequest(ref SequenceReader<byte> reader, Http1Head head, Http1Limits limits, out Http1Error error)
        => Parse(ref reader, head, limits, isRequest: true, out error);

    public static Http1ParseStatus ParseResponse(ref SequenceReader<byte> reader, Http1Head head, Http1Limits limits, out Http1Error error)
        => Parse(ref reader, head, limits, isRequest: false, out error);

    private static Http1ParseStatus Parse(ref SequenceReader<byte> reader, Http1Head head, Http1Limits limits, bool isRequest, out Http1Error error)
    {
        error = Http1Error.None;
        while (true)
        {
            int start;
            int length;
            // Fast path: the line lies within the current segment (nearly always: a head usually arrives in one
            // read), so it is found and copied as one span, without building a ReadOnlySequence per line.
            ReadOnlySpan<byte> unread = reader.UnreadSpan;
            int lf = unread.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                head.HeadBytes += lf + 1;
                if (head.HeadBytes > limits.MaxHeadBytes) return Fail(Http1Error.HeadTooLarge, out error);
                start = head.AppendLine(unread[..lf]);
                length = lf;
                reader.Advance(lf + 1);
            }
            else if (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n', advancePastDelimiter: true))
            {
                head.HeadBytes += (int)line.Length + 1;
                if (head.HeadBytes > limits.MaxHeadBytes) return Fail(Http1Error.HeadTooLarge, out error);
                start = head.AppendLine(line);
                length = (int)line.Length;
            }
            else
            {
                // The limit applies to what we have been sent so far, so an endless line is cut early.
                if (head.HeadBytes + reader.Remaining > limits.MaxHeadBytes) return Fail(Http1Error.HeadTooLarge, out error);
                return Http1ParseStatus.Incomplete;
            }
            // RFC 9112 §2.2: lines end in CRLF; a bare LF is rejected (smuggling defence).
            if (length == 0 || head.Slice(start + length - 1, 1)[0] != (byte)'\r')
            {
                return Fail(Http1Error.BareLineFeed, out error);
            }
            length--;

            if (head.ParseStage == Stage.StartLine)
            {
                if (length == 0)
                {
                    // RFC 9112 §2.2: ignore a few empty lines before the start line. They must not stay in the
                    // buffer: the start line is expected at offset 0 (Method is buffer[0..MethodLength]).
                    // Responses get the same tolerance: a stray CRLF after a previous body is common and
                    // cannot change framing.
                    head.Truncate(start);
                    if (++head.LeadingEmptyLines <= MaxLeadingEmptyLines) continue;
                    return Fail(isRequest ? Http1Error.InvalidRequestLine : Http1Error.InvalidStatusLine, out error);
                }
                error = isRequest ? ParseRequestLine(head, start, length) : ParseStatusLine(head, start, length);
                if (error != Http1Error.None) return Http1ParseStatus.Error;
                head.ParseStage = Stage.Headers;
                continue;
            }

            if (length == 0)
            {
                error = isRequest ? FinishRequest(head) : FinishResponse(head);
                if (error != Http1Error.None) return Http1ParseStatus.Error;
                head.ParseStage = Stage.Done;
                return Http1ParseStatus.Complete;
            }

            error = ParseHeaderLine(head, start, length, limits.MaxHeaderCount);
            if (error != Http1Error.None) return Http1ParseStatus.Error;
        }
    }

    private static Http1ParseStatus Fail(Http1Error e, out Http1Error error)
    {
        error = e;
        return Http1ParseStatus.Error;
    }

    // request-line = method SP request-target SP HTTP-version   (RFC 9112 §3)
    private static Http1Error ParseRequestLine(Http1Head head, int start, int length)
    {
        ReadOnlySpan<byte> line = head.Slice(start, length);
        int sp1 = line.IndexOf((byte)' ');
        if (sp1 <= 0) return sp1 == 0 ? Http1Error.InvalidMethod : Http1Error.InvalidRequestLine;
        ReadOnlySpan<byte> method = line[..sp1];
        if (!HttpChars.IsToken(method)) return Http1Error.InvalidMethod;
        ReadOnlySpan<byte> rest = line[(sp1 + 1)..];
        int sp2 = rest.IndexOf((byte)' ');
        if (sp2 <= 0) return Http1Error.InvalidRequestLine;
        ReadOnlySpan<byte> target = rest[..sp2];
        foreach (byte b in target)
        {
            if (!HttpChars.IsTargetChar(b)) return Http1Error.InvalidRequestTarget;
        }
        Http1Error v = ParseVersion(rest[(sp2 + 1)..], out Http1Version version);
        if (v != Http1Error.None) return v;

        head.MethodLength = sp1;
        head.TargetStart = start + sp1 + 1;
        head.TargetLength = sp2;
        head.Version = version;
        head.KnownMethod = ClassifyMethod(method);
        return IsValidTargetForm(head.KnownMethod, target) ? Http1Error.None : Http1Error.InvalidRequestTarget;
    }

    /// <summary>RFC 9112 §3.2: which request-target form each method may use.</summary>
    private static bool IsValidTargetForm(KnownMethod method, ReadOnlySpan<byte> target)
    {
        // §3.2.3: CONNECT uses authority-form (uri-host ":" port) and only that form.
        if (method == KnownMethod.Connect) return IsAuthorityForm(target);
        // §3.2.1 origin-form.
        if (target[0] == (byte)'/') return true;
        // §3.2.4: asterisk-form is only for a server-wide OPTIONS.
        if (target.Length == 1 && target[0] == (byte)'*') return method == KnownMethod.Options;
        // §3.2.2 absolute-form: scheme "://" authority ...; a scheme starts with a letter.
        int scheme = target.IndexOf("://"u8);
        return scheme > 0 && char.IsAsciiLetter((char)target[0]);
    }

    /// <summary>authority-form = uri-host ":" port (RFC 9112 §3.2.3), without userinfo (RFC 9110 §4.2.4).</summary>
    private static bool IsAuthorityForm(ReadOnlySpan<byte> target)
    {
        int colon = target.LastIndexOf((byte)':');
        if (colon <= 0 || colon == target.Length - 1) return false;
        if (target.IndexOfAny("/?#@"u8) >= 0) return false;
        foreach (byte b in target[(colon + 1)..])
        {
            if ((uint)(b - '0') > 9) return false;
        }
        return true;
    }

    // status-line = HTTP-version SP status-code SP [ reason-phrase ]   (RFC 9112 §4)
    private static Http1Error ParseStatusLine(Http1Head head, int start, int length)
    {
        ReadOnlySpan<byte> line = head.Slice(start, length);
        if (line.Length < 12 || line[8] != (byte)' ') return Http1Error.InvalidStatusLine;
        Http1Error v = ParseVersion(line[..8], out Http1Version version);
        if (v != Http1Error.None) return v;
        int code = 0;
        for (int i = 9; i < 12; i++)
        {
            uint d = (uint)(line[i] - '0');
            if (d > 9) return Http1Error.InvalidStatusLine;
            code = code * 10 + (int)d;
        }
        if (code < 100) return Http1Error.InvalidStatusLine;
        if (line.Length > 12)
        {
            if (line[12] != (byte)' ') return Http1Error.InvalidStatusLine;
            if (!HttpChars.IsFieldValue(line[13..])) return Http1Error.InvalidStatusLine;
            head.ReasonStart = start + 13;
            head.ReasonLength = length - 13;
        }
        head.Version = version;
        head.StatusCode = code;
        return Http1Error.None;
    }

    private static Http1Error ParseVersion(ReadOnlySpan<byte> v, out Http1Version version)
    {
        version = Http1Version.Http11;
        if (v.SequenceEqual("HTTP/1.1"u8)) return Http1Error.None;
        if (v.SequenceEqual("HTTP/1.0"u8))
        {
            version = Http1Version.Http10;
            return Http1Error.None;
        }
        // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3): well-formed but unsupported → 505.
        if (v.Length == 8 && v.StartsWith("HTTP/"u8) && char.IsAsciiDigit((char)v[5]) && v[6] == (byte)'.' && char.IsAsciiDigit((char)v[7]))
        {
            return Http1Error.UnsupportedVersion;
        }
        return Http1Error.InvalidVersion;
    }

    // field-line = field-name ":" OWS field-value OWS   (RFC 9112 §5)
    private static Http1Error ParseHeaderLine(Http1Head head, int start, int length, int maxCount)
    {
        ReadOnlySpan<byte> line = head.Slice(start, length);
        // RFC 9112 §5.2: obs-fold (a line starting with SP/HTAB) is rejected with 400.
        if (line[0] == (byte)' ' || line[0] == (byte)'\t') return Http1Error.ObsoleteLineFolding;
        int colon = line.IndexOf((byte)':');
        if (colon <= 0) return Http1Error.InvalidHeaderName;
        ReadOnlySpan<byte> name = line[..colon];
        // RFC 9112 §5.1: "No whitespace is allowed between the field name and colon ... MUST reject with 400".
        if (name[^1] == (byte)' ' || name[^1] == (byte)'\t') return Http1Error.WhitespaceBeforeColon;
        if (!HttpChars.IsToken(name)) return Http1Error.InvalidHeaderName;

        int vs = colon + 1;
        int ve = line.Length;
        while (vs < ve && (line[vs] == (byte)' ' || line[vs] == (byte)'\t')) vs++;
        while (ve > vs && (line[ve - 1] == (byte)' ' || line[ve - 1] == (byte)'\t')) ve--;
        ReadOnlySpan<byte> value = line[vs..ve];
        if (!HttpChars.IsFieldValue(value)) return Http1Error.InvalidHeaderValue;

        KnownHeader known = KnownHeaders.Classify(name);
        int index = head.HeaderCount;
        if (!head.TryAddField(start, colon, start + vs, ve - vs, known, maxCount)) return Http1Error.TooManyHeaders;
        return known == KnownHeader.Other ? Http1Error.None : ApplyKnown(head, known, value, index);
    }

    private static Http1Error ApplyKnown(Http1Head head, KnownHeader known, ReadOnlySpan<byte> value, int index)
    {
        switch (known)
        {
            case KnownHeader.Host:
                if (head.HostIndex >= 0) return Http1Error.DuplicateHost;
                head.HostIndex = index;
                break;
            case KnownHeader.ContentLength:
                // RFC 9110 §8.6: Content-Length = 1*DIGIT. Duplicates are refused outright (llhttp does the same).
                if (head.ContentLength >= 0) return Http1Error.DuplicateContentLength;
                if (!TryParseContentLength(value, out long cl)) return Http1Error.InvalidContentLength;
                head.ContentLength = cl;
                break;
            case KnownHeader.TransferEncoding:
                head.HasTransferEncoding = true;
                // Only the final coding matters for framing (RFC 9112 §6.3); a later field overrides.
                head.Chunked = LastTokenIs(value, "chunked"u8);
                break;
            case KnownHeader.Connection:
                ApplyConnection(head, value);
                break;
            case KnownHeader.Upgrade:
                head.UpgradeIndex = index;
                break;
            case KnownHeader.Expect:
                if (System.Text.Ascii.EqualsIgnoreCase(value, "100-continue"u8)) head.ExpectContinue = true;
                break;
            case KnownHeader.TE:
                if (ContainsToken(value, "trailers"u8)) head.TeTrailers = true;
                break;
            case KnownHeader.XRequestId:
                head.RequestIdIndex = index;
                break;
            case KnownHeader.XForwardedFor:
                head.ForwardedForIndex = index;
                break;
        }
        return Http1Error.None;
    }

    private static void ApplyConnection(Http1Head head, ReadOnlySpan<byte> value)
    {
        foreach (Range r in value.Split((byte)','))
        {
            ReadOnlySpan<byte> token = value[r].Trim(" \t"u8);
            if (token.IsEmpty) continue;
            if (System.Text.Ascii.EqualsIgnoreCase(token, "close"u8)) head.ConnectionClose = true;
            else if (System.Text.Ascii.EqualsIgnoreCase(token, "keep-alive"u8)) head.ConnectionKeepAlive = true;
            else if (System.Text.Ascii.EqualsIgnoreCase(token, "upgrade"u8)) head.ConnectionUpgrade = true;
            else head.ConnectionNamesOthers = true;
        }
    }

    private static Http1Error FinishRequest(Http1Head head)
    {
        // Framing is decided first so that a framing error (the smuggling-relevant one) wins over a
        // missing Host, and Framing is meaningful even when MissingHost is returned.
        if (head.HasTransferEncoding)
        {
            // RFC 9112 §6.1: TE in HTTP/1.0 means faulty framing; TE with CL is the classic smuggling shape.
            if (head.Version == Http1Version.Http10) return Http1Error.TransferEncodingInHttp10;
            if (head.ContentLength >= 0) return Http1Error.ContentLengthWithTransferEncoding;
            // RFC 9112 §6.3: a request whose final coding is not chunked cannot be framed → 400; we only forward chunked.
            if (!head.Chunked) return Http1Error.UnsupportedTransferEncoding;
            head.Framing = BodyFraming.Chunked;
        }
        else if (head.ContentLength > 0)
        {
            head.Framing = BodyFraming.ContentLength;
        }
        else
        {
            head.Framing = BodyFraming.None;
        }
        // RFC 9112 §3.2: "A server MUST respond with a 400 to any HTTP/1.1 request message that lacks a Host header field".
        if (head.Version == Http1Version.Http11 && head.HostIndex < 0) return Http1Error.MissingHost;
        return Http1Error.None;
    }

    private static Http1Error FinishResponse(Http1Head head)
    {
        if (head.HasTransferEncoding)
        {
            if (head.ContentLength >= 0) return Http1Error.ContentLengthWithTransferEncoding;
            head.Framing = head.Chunked ? BodyFraming.Chunked : BodyFraming.UntilClose;
        }
        else if (head.ContentLength >= 0)
        {
            head.Framing = head.ContentLength > 0 ? BodyFraming.ContentLength : BodyFraming.None;
        }
        else
        {
            head.Framing = BodyFraming.UntilClose;
        }
        return Http1Error.None;
    }

    /// <summary>RFC 9112 §6.3 rules 1–2: responses to HEAD, 1xx, 204, 304 and 2xx to CONNECT have no body.</summary>
    public static BodyFraming ResponseFraming(Http1Head response, KnownMethod requestMethod)
    {
        int s = response.StatusCode;
        if (requestMethod == KnownMethod.Head || s < 200 || s == 204 || s == 304) return BodyFraming.None;
        if (requestMethod == KnownMethod.Connect && s < 300) return BodyFraming.None;
        return response.Framing;
    }

    private static bool TryParseContentLength(ReadOnlySpan<byte> value, out long result)
    {
        result = 0;
        if (value.IsEmpty || value.Length > 18) return false;
        foreach (byte b in value)
        {
            uint d = (uint)(b - '0');
            if (d > 9) return false;
            result = result * 10 + d;
        }
        return true;
    }

    private static bool LastTokenIs(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        int comma = value.LastIndexOf((byte)',');
        ReadOnlySpan<byte> last = (comma < 0 ? value : value[(comma + 1)..]).Trim(" \t"u8);
        return System.Text.Ascii.EqualsIgnoreCase(last, token);
    }

    private static bool ContainsToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        foreach (Range r in value.Split((byte)','))
        {
            ReadOnlySpan<byte> t = value[r].Trim(" \t"u8);
            int semi = t.IndexOf((byte)';');
            if (semi >= 0) t = t[..semi].TrimEnd(" \t"u8);
            if (System.Text.Ascii.EqualsIgnoreCase(t, token)) return true;
        }
        return false;
    }

    private static KnownMethod ClassifyMethod(ReadOnlySpan<byte> m) => m.Length switch
    {
        3 when m.SequenceEqual("GET"u8) => KnownMethod.Get,
        3 when m.SequenceEqual("PUT"u8) => KnownMethod.Put,
        4 when m.SequenceEqual("HEAD"u8) => KnownMethod.Head,
        4 when m.SequenceEqual("POST"u8) => KnownMethod.Post,
        5 when m.SequenceEqual("TRACE"u8) => KnownMethod.Trace,
        5 when m.SequenceEqual("PATCH"u8) => KnownMethod.Patch,
        6 when m.SequenceEqual("DELETE"u8) => KnownMethod.Delete,
        7 when m.SequenceEqual("CONNECT"u8) => KnownMethod.Connect,
        7 when m.SequenceEqual("OPTIONS"u8) => KnownMethod.Options,
        _ => KnownMethod.Unknown,
    };
}
