using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Routing;

/// <summary>
/// Envoy <c>QueryParameterMatcher</c>: looks at the first occurrence of the parameter only (Envoy's
/// documented legacy behaviour); a missing parameter never matches. Deviation: Envoy percent-decodes
/// names and values before matching; we compare the raw bytes, so configs must use the encoded form.
/// </summary>
internal sealed class QueryParameterMatcher
{
    private readonly byte[] _name;
    private readonly ByteStringMatcher? _matcher;
    private readonly bool _present;

    public QueryParameterMatcher(QueryParameterMatcherModel model)
    {
        _name = AsciiSpan.Utf8(model.Name);
        if (model.Matcher is null)
        {
            _present = model.PresentMatch;
        }
        else if (model.Matcher.Kind == StringMatchKind.Present)
        {
            _present = true;
        }
        else
        {
            _matcher = new ByteStringMatcher(model.Matcher);
        }
    }

    /// <param name="query">The bytes after '?' and before any '#'.</param>
    public bool Matches(ReadOnlySpan<byte> query)
    {
        while (!query.IsEmpty)
        {
            int amp = query.IndexOf((byte)'&');
            ReadOnlySpan<byte> pair = amp < 0 ? query : query[..amp];
            query = amp < 0 ? default : query[(amp + 1)..];

            int eq = pair.IndexOf((byte)'=');
            ReadOnlySpan<byte> name = eq < 0 ? pair : pair[..eq];
            if (!name.SequenceEqual(_name))
            {
                continue;
            }

            ReadOnlySpan<byte> value = eq < 0 ? default : pair[(eq + 1)..];
            return _matcher is null ? _present : _matcher.Matches(value);
        }

        return false;
    }
}
