using System.Buffers;

namespace Sidecar.Core.Http;

/// <summary>Envoy's <c>path_with_escaped_slashes_action</c> (IMPLEMENTATION_SPECIFIC_DEFAULT is KEEP_UNCHANGED).</summary>
public enum EscapedSlashesAction : byte { KeepUnchanged, RejectRequest, UnescapeAndRedirect, UnescapeAndForward }

/// <summary>The connection manager's path options: <c>normalize_path</c>, <c>merge_slashes</c>, escaped slashes.</summary>
public readonly record struct PathNormalization(bool NormalizePath, bool MergeSlashes, EscapedSlashesAction EscapedSlashes)
{
    public static readonly PathNormalization None = default;
    public bool IsActive => NormalizePath || MergeSlashes || EscapedSlashes != EscapedSlashesAction.KeepUnchanged;
}

/// <summary>What normalization decided for one request path.</summary>
public enum PathNormalizeResult : byte
{
    /// <summary>The path is already normal: route and forward it as received.</summary>
    Unchanged,
    /// <summary>Route and forward the rewritten path.</summary>
    Rewritten,
    /// <summary>UNESCAPE_AND_REDIRECT found an escaped slash: answer 307 with the rewritten path as Location.</summary>
    Redirect,
    /// <summary>The path cannot be normalized (or REJECT_REQUEST found an escaped slash): answer 400.</summary>
    Reject,
}

/// <summary>
/// The path normalization Envoy's connection manager applies before routing (<c>ConnectionManagerUtility::maybeNormalizePath</c>),
/// in its order: (1) escaped slashes %2F / %5C per the configured action, (2) <c>normalize_path</c>: RFC 3986 §6.2.2
/// syntax-based normalization as Envoy's legacy canonicalizer does it — percent-decoding of unreserved characters
/// (§2.3; other escapes are kept byte for byte), '\' read as '/', characters not allowed in a path percent-encoded,
/// and §5.2.4 remove_dot_segments including "%2E" dots (".." above the root is clamped at the root), a missing leading
/// '/' added; %00 or a NUL makes the path invalid; (3) <c>merge_slashes</c>. Only the path is touched: the query
/// ('?' onwards) is kept as received. A path with a fragment ('#') is rejected, as Envoy does by default.
/// <para>An already normal path — the common case — costs one scan and no copy; otherwise the result is built in a
/// caller-owned pooled scratch array.</para>
/// </summary>
public static class PathNormalizer
{
    // Envoy's legacy canonicalizer classes per byte (the Chromium path table): Pass is copied, Unescape marks the
    // unreserved characters whose escapes are decoded, Escape bytes are percent-encoded, Invalid fails the path.
    private const byte Pass = 0, Unescape = 1, Escape = 2, Invalid = 3;
    private static readonly byte[] Classes = BuildClasses();

    private static byte[] BuildClasses()
    {
        var t = new byte[256];
        for (int b = 0; b < 256; b++)
        {
            t[b] = b switch
            {
                0 => Invalid,
                < 0x20 or >= 0x7f => Escape,
                (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '~' => Unescape,
                ' ' or '"' or '#' or '<' or '>' or '?' or '^' or '`' or '{' or '|' or '}' or '\\' or '%' => Escape,
                _ => Pass,
            };
        }
        return t;
    }

    /// <summary>
    /// Normalizes the path of <paramref name="pathAndQuery"/> as <paramref name="options"/> ask. For
    /// <see cref="PathNormalizeResult.Rewritten"/> and <see cref="PathNormalizeResult.Redirect"/> the new path and query
    /// are <c>scratch[..length]</c>; <paramref name="scratch"/> is rented from the shared pool and grown as needed (the
    /// caller returns it when done).
    /// </summary>
    public static PathNormalizeResult Normalize(ReadOnlySpan<byte> pathAndQuery, PathNormalization options, ref byte[]? scratch, out int length)
    {
        length = 0;
        if (!options.IsActive || pathAndQuery.IsEmpty || pathAndQuery is [(byte)'*'])
        {
            return PathNormalizeResult.Unchanged;
        }
        int queryAt = pathAndQuery.IndexOf((byte)'?');
        ReadOnlySpan<byte> path = queryAt < 0 ? pathAndQuery : pathAndQuery[..queryAt];
        ReadOnlySpan<byte> query = queryAt < 0 ? default : pathAndQuery[queryAt..];
        if (!NeedsWork(path, options))
        {
            return PathNormalizeResult.Unchanged;
        }
        if (path.IndexOf((byte)'#') >= 0)
        {
            // RFC 9110 §4.2.4: a fragment is never sent in a request target; Envoy rejects one (http_reject_path_with_fragment).
            return PathNormalizeResult.Reject;
        }

        // Worst case: every byte percent-encoded (×3) plus a leading '/'; the first third holds the unescaped-slashes stage.
        int need = path.Length + (3 * path.Length) + 1 + query.Length;
        if (scratch is null || scratch.Length < need)
        {
            if (scratch is not null) ArrayPool<byte>.Shared.Return(scratch);
            scratch = ArrayPool<byte>.Shared.Rent(need);
        }
        Span<byte> stage = scratch.AsSpan(0, path.Length);
        Span<byte> output = scratch.AsSpan(path.Length);

        bool redirect = false;
        ReadOnlySpan<byte> current = path;
        if (options.EscapedSlashes != EscapedSlashesAction.KeepUnchanged)
        {
            int n = UnescapeSlashes(path, stage);
            if (n != path.Length)
            {
                if (options.EscapedSlashes == EscapedSlashesAction.RejectRequest) return PathNormalizeResult.Reject;
                redirect = options.EscapedSlashes == EscapedSlashesAction.UnescapeAndRedirect;
                current = stage[..n];
            }
        }
        int written;
        if (options.NormalizePath)
        {
            if (!Canonicalize(current, output, out written)) return PathNormalizeResult.Reject;
        }
        else
        {
            current.CopyTo(output);
            written = current.Length;
        }
        if (options.MergeSlashes)
        {
            written = MergeSlashes(output[..written]);
        }
        Span<byte> result = output[..written];
        if (!redirect && result.SequenceEqual(path))
        {
            return PathNormalizeResult.Unchanged;
        }
        // Move the result to the front of the scratch array so the caller sees one contiguous path and query.
        result.CopyTo(scratch);
        query.CopyTo(scratch.AsSpan(written));
        length = written + query.Length;
        return redirect ? PathNormalizeResult.Redirect : PathNormalizeResult.Rewritten;
    }

    /// <summary>The fast path: true only when some configured step could change (or reject) this path.</summary>
    private static bool NeedsWork(ReadOnlySpan<byte> path, PathNormalization options)
    {
        if (options.NormalizePath && path[0] != (byte)'/') return true;
        byte previous = 0;
        foreach (byte b in path)
        {
            if (b == (byte)'%' && (options.NormalizePath || options.EscapedSlashes != EscapedSlashesAction.KeepUnchanged)) return true;
            if (b == (byte)'#') return true;
            if (options.NormalizePath && ((Classes[b] is Escape or Invalid) || (b == (byte)'.' && previous == (byte)'/'))) return true;
            if (options.MergeSlashes && b == (byte)'/' && previous == (byte)'/') return true;
            previous = b;
        }
        return false;
    }

    /// <summary>%2F/%2f become '/' and %5C/%5c become '\' (Envoy's <c>PathUtil::unescapeSlashes</c>). Returns the new length.</summary>
    private static int UnescapeSlashes(ReadOnlySpan<byte> path, Span<byte> output)
    {
        int w = 0;
        for (int i = 0; i < path.Length; i++)
        {
            if (path[i] == (byte)'%' && i + 2 < path.Length)
            {
                byte hi = path[i + 1];
                byte lo = (byte)(path[i + 2] | 0x20);
                if (hi == (byte)'2' && lo == (byte)'f')
                {
                    output[w++] = (byte)'/';
                    i += 2;
                    continue;
                }
                if (hi == (byte)'5' && lo == (byte)'c')
                {
                    output[w++] = (byte)'\\';
                    i += 2;
                    continue;
                }
            }
            output[w++] = path[i];
        }
        return w;
    }

    /// <summary>
    /// RFC 3986 §6.2.2 normalization of one path the way Envoy's legacy canonicalizer does it (see the class summary).
    /// False when the path contains NUL or %00.
    /// </summary>
    private static bool Canonicalize(ReadOnlySpan<byte> input, Span<byte> output, out int written)
    {
        int w = 0;
        if (input.IsEmpty || !IsSlash(input[0]))
        {
            output[w++] = (byte)'/';
        }
        // Where an earlier '%' that began no valid escape was written: decoding after it may form a new escape.
        int lastBarePercent = int.MinValue;
        for (int i = 0; i < input.Length; i++)
        {
            byte c = input[i];
            int dot = DotLength(input, i);
            if (dot > 0)
            {
                if (w > 0 && output[w - 1] == (byte)'/')
                {
                    // §5.2.4: "." and ".." segments (also written %2E) are removed; ".." takes the previous segment with it.
                    switch (ClassifyAfterDot(input, i + dot, out int consumed))
                    {
                        case DotSegment.Current:
                            i += dot + consumed - 1;
                            continue;
                        case DotSegment.Parent:
                            w = BackUpToPreviousSlash(output, w);
                            i += dot + consumed - 1;
                            continue;
                    }
                }
                output[w++] = (byte)'.';
                i += dot - 1;
                continue;
            }
            if (c == (byte)'\\')
            {
                output[w++] = (byte)'/';
                continue;
            }
            if (c == (byte)'%')
            {
                if (TryDecodeEscape(input, i, out byte value))
                {
                    i += 2;
                    byte cls = Classes[value];
                    if (cls == Unescape)
                    {
                        // §6.2.2.2: an escaped unreserved character is the character itself.
                        output[w++] = value;
                        if (lastBarePercent >= w - 3) w = GuardNestedEscape(input, i + 1, lastBarePercent, output, w);
                        continue;
                    }
                    // Other escapes are kept exactly as sent (case included); an escaped NUL is never acceptable.
                    output[w++] = (byte)'%';
                    output[w++] = input[i - 1];
                    output[w++] = input[i];
                    if (cls == Invalid) return Fail(out written);
                    continue;
                }
                // A '%' that starts no escape passes through, as Envoy does (it does not reject it).
                lastBarePercent = w;
                output[w++] = (byte)'%';
                continue;
            }
            switch (Classes[c])
            {
                case Invalid:
                    return Fail(out written);
                case Escape:
                    w = WriteEscaped(output, w, c);
                    break;
                default:
                    output[w++] = c;
                    break;
            }
        }
        written = w;
        return true;
    }

    private static bool Fail(out int written)
    {
        written = 0;
        return false;
    }

    private enum DotSegment : byte { NotASegment, Current, Parent }

    /// <summary>What follows a dot that starts a segment; <paramref name="consumed"/> is how much input after the dot belongs to it.</summary>
    private static DotSegment ClassifyAfterDot(ReadOnlySpan<byte> input, int afterDot, out int consumed)
    {
        consumed = 0;
        if (afterDot == input.Length) return DotSegment.Current;
        if (IsSlash(input[afterDot]))
        {
            consumed = 1;
            return DotSegment.Current;
        }
        int second = DotLength(input, afterDot);
        if (second > 0)
        {
            int after = afterDot + second;
            if (after == input.Length)
            {
                consumed = second;
                return DotSegment.Parent;
            }
            if (IsSlash(input[after]))
            {
                consumed = second + 1;
                return DotSegment.Parent;
            }
        }
        return DotSegment.NotASegment;
    }

    /// <summary>Drops the last segment of the output (which ends with '/'), never going above the root.</summary>
    private static int BackUpToPreviousSlash(Span<byte> output, int w)
    {
        int i = w - 1;
        if (i == 0) return w;
        i--;
        while (output[i] != (byte)'/' && i > 0) i--;
        return i + 1;
    }

    /// <summary>
    /// "%%30" decodes to "%0", which with the next byte could read as a new escape ("%00") if the path were decoded
    /// again; the earlier bare '%' is then written as "%25" so the output means what the input meant.
    /// </summary>
    private static int GuardNestedEscape(ReadOnlySpan<byte> input, int next, int percentAt, Span<byte> output, int w)
    {
        int length = w;
        byte last = output[w - 1];
        bool appendNext = percentAt == length - 2;
        if (appendNext)
        {
            if (next == input.Length || input[next] >= 0x80) return w;
            output[w++] = input[next];
        }
        if (TryDecodeEscape(output[..w], percentAt, out _))
        {
            if (!appendNext) output[w++] = output[percentAt + 1];
            output[percentAt + 1] = (byte)'2';
            output[percentAt + 2] = (byte)'5';
            // "%cd" became "%25" + c; the next input byte (d) is still to be processed by the caller's loop.
            output[w++] = last;
            return w;
        }
        return length;
    }

    /// <summary>Collapses runs of '/' into one (Envoy's <c>merge_slashes</c>). Returns the new length.</summary>
    private static int MergeSlashes(Span<byte> path)
    {
        int w = 0;
        for (int i = 0; i < path.Length; i++)
        {
            if (path[i] == (byte)'/' && w > 0 && path[w - 1] == (byte)'/') continue;
            path[w++] = path[i];
        }
        return w;
    }

    private static bool IsSlash(byte b) => b is (byte)'/' or (byte)'\\';

    /// <summary>1 for '.', 3 for "%2E"/"%2e", else 0.</summary>
    private static int DotLength(ReadOnlySpan<byte> s, int i)
    {
        if (s[i] == (byte)'.') return 1;
        if (s[i] == (byte)'%' && i + 2 < s.Length && s[i + 1] == (byte)'2' && (s[i + 2] | 0x20) == (byte)'e') return 3;
        return 0;
    }

    private static bool TryDecodeEscape(ReadOnlySpan<byte> s, int percentAt, out byte value)
    {
        value = 0;
        if (percentAt + 2 >= s.Length) return false;
        int hi = HexValue(s[percentAt + 1]);
        int lo = HexValue(s[percentAt + 2]);
        if (hi < 0 || lo < 0) return false;
        value = (byte)((hi << 4) | lo);
        return true;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    private static int WriteEscaped(Span<byte> output, int w, byte c)
    {
        output[w++] = (byte)'%';
        output[w++] = (byte)"0123456789ABCDEF"[c >> 4];
        output[w++] = (byte)"0123456789ABCDEF"[c & 0xF];
        return w;
    }
}
