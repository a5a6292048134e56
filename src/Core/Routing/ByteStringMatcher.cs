using System.Text.RegularExpressions;
using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Routing;

/// <summary>
/// A <see cref="StringMatcherModel"/> compiled for raw bytes: the value is pre-encoded once and the
/// regex pre-anchored, so matching a request value creates nothing.
/// </summary>
internal sealed class ByteStringMatcher
{
    private readonly StringMatchKind _kind;
    private readonly byte[] _value;
    private readonly bool _ignoreCase;
    private readonly Regex? _regex;

    public ByteStringMatcher(StringMatcherModel model)
    {
        _kind = model.Kind;
        _ignoreCase = model.IgnoreCase;
        _value = AsciiSpan.Utf8(model.Value);
        if (model.Kind == StringMatchKind.SafeRegex)
        {
            _regex = SpanRegex.Anchor(model.Regex
                ?? throw new ArgumentException("safe_regex string matcher without a regex", nameof(model)));
        }
    }

    public bool IsPresentOnly => _kind == StringMatchKind.Present;

    public bool Matches(ReadOnlySpan<byte> input) => _kind switch
    {
        StringMatchKind.Exact => AsciiSpan.Equals(input, _value, _ignoreCase),
        StringMatchKind.Prefix => AsciiSpan.StartsWith(input, _value, _ignoreCase),
        StringMatchKind.Suffix => AsciiSpan.EndsWith(input, _value, _ignoreCase),
        StringMatchKind.Contains => AsciiSpan.Contains(input, _value, _ignoreCase),
        // Envoy ignores ignore_case for regexes (use (?i) in the pattern), and so do we.
        StringMatchKind.SafeRegex => SpanRegex.IsFullMatch(_regex!, input),
        StringMatchKind.Present => true,
        _ => false,
    };
}
