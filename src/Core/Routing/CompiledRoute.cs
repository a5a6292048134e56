using System.Text.RegularExpressions;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http;

namespace Sidecar.Core.Routing;

/// <summary>
/// One <see cref="RouteModel"/> with its match pre-compiled for bytes. Conditions are tested
/// cheapest first (path, then headers, then query); the result equals Envoy's, which ANDs them.
/// </summary>
internal sealed class CompiledRoute
{
    private readonly PathMatchKind _kind;
    private readonly byte[] _value;
    private readonly bool _ignoreCase;
    private readonly Regex? _regex;
    private readonly HeaderMatcher[] _headers;
    private readonly QueryParameterMatcher[] _query;

    public CompiledRoute(RouteModel model)
    {
        Model = model;
        RouteMatchModel match = model.Match;
        _kind = match.Kind;
        _value = AsciiSpan.Utf8(match.Value);
        _ignoreCase = !match.CaseSensitive;
        if (_kind == PathMatchKind.SafeRegex)
        {
            _regex = SpanRegex.Anchor(match.Regex
                ?? throw new ArgumentException($"route '{model.Name}': safe_regex without a regex", nameof(model)));
        }

        _headers = new HeaderMatcher[match.Headers.Length];
        for (int i = 0; i < _headers.Length; i++)
        {
            _headers[i] = new HeaderMatcher(match.Headers[i]);
        }

        _query = new QueryParameterMatcher[match.QueryParameters.Length];
        for (int i = 0; i < _query.Length; i++)
        {
            _query[i] = new QueryParameterMatcher(match.QueryParameters[i]);
        }
    }

    public RouteModel Model { get; }

    /// <param name="path">The :path without query string and fragment.</param>
    /// <param name="query">The query string without '?' and fragment (empty if none).</param>
    public bool Matches<TRequest>(ref TRequest request, ReadOnlySpan<byte> path, ReadOnlySpan<byte> query)
        where TRequest : IRequestView, allows ref struct
    {
        // Envoy: connect_matcher routes take only CONNECT requests, and CONNECT requests no other routes.
        bool isConnect = request.Method.SequenceEqual("CONNECT"u8);
        if (isConnect != (_kind == PathMatchKind.Connect) || (!isConnect && !MatchesPath(path)))
        {
            return false;
        }

        foreach (HeaderMatcher header in _headers)
        {
            if (!header.Matches(ref request))
            {
                return false;
            }
        }

        foreach (QueryParameterMatcher parameter in _query)
        {
            if (!parameter.Matches(query))
            {
                return false;
            }
        }

        return true;
    }

    private bool MatchesPath(ReadOnlySpan<byte> path)
    {
        switch (_kind)
        {
            case PathMatchKind.Prefix:
                return AsciiSpan.StartsWith(path, _value, _ignoreCase);
            case PathMatchKind.Path:
                return AsciiSpan.Equals(path, _value, _ignoreCase);
            case PathMatchKind.PathSeparatedPrefix:
                // Envoy: "/foo" matches "/foo", "/foo/" and "/foo/bar", never "/foobar".
                return path.Length >= _value.Length
                    && (path.Length == _value.Length || path[_value.Length] == (byte)'/')
                    && AsciiSpan.Equals(path[.._value.Length], _value, _ignoreCase);
            case PathMatchKind.SafeRegex:
                // case_sensitive does not apply to regexes in Envoy either.
                return SpanRegex.IsFullMatch(_regex!, path);
            default:
                return false;
        }
    }
}
