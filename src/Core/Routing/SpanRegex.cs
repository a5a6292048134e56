using System.Buffers;
using System.Text.RegularExpressions;

namespace Sidecar.Core.Routing;

/// <summary>
/// Envoy <c>safe_regex</c> is RE2 full-match. .NET <see cref="Regex.IsMatch(ReadOnlySpan{char})"/>
/// searches, so each config regex is re-compiled once, anchored, and then run over a char span
/// widened from the request bytes (stack buffer or pooled array; never a string).
/// </summary>
internal static class SpanRegex
{
    private const int StackChars = 256;

    /// <summary>Wraps the pattern as <c>\A(?:p)\z</c>; idempotent in meaning if it was already anchored.</summary>
    public static Regex Anchor(Regex regex)
    {
        // Under IgnorePatternWhitespace a trailing "# comment" would swallow our closing group,
        // so terminate the user's pattern with a newline in that mode only (elsewhere it is a literal).
        string tail = (regex.Options & RegexOptions.IgnorePatternWhitespace) != 0 ? "\n)\\z" : ")\\z";
        return new Regex("\\A(?:" + regex.ToString() + tail, regex.Options, regex.MatchTimeout);
    }

    public static bool IsFullMatch(Regex anchored, ReadOnlySpan<byte> input)
    {
        char[]? rented = null;
        Span<char> chars = input.Length <= StackChars
            ? stackalloc char[StackChars]
            : (rented = ArrayPool<char>.Shared.Rent(input.Length));
        try
        {
            Span<char> used = chars[..input.Length];
            AsciiSpan.Widen(input, used);
            return anchored.IsMatch(used);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }
}
