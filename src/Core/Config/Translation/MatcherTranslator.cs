using System.Collections.Immutable;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>Route <c>match</c>: path specifier, header and query-parameter matchers, StringMatcher.</summary>
internal static class MatcherTranslator
{
    public static RouteMatchModel? ReadRouteMatch(TranslationContext ctx, ConfigNode node)
    {
        FieldReader m = new(ctx, node);
        if (!m.IsValid)
        {
            return null;
        }
        bool caseSensitive = m.Bool("case_sensitive") ?? true;
        PathMatchKind? kind = null;
        string value = "";
        System.Text.RegularExpressions.Regex? regex = null;
        int specifiers = 0;
        if (m.String("prefix") is string prefix)
        {
            (kind, value) = (PathMatchKind.Prefix, prefix);
            specifiers++;
        }
        if (m.String("path") is string path)
        {
            (kind, value) = (PathMatchKind.Path, path);
            specifiers++;
        }
        if (m.String("path_separated_prefix") is string psp)
        {
            (kind, value) = (PathMatchKind.PathSeparatedPrefix, psp);
            specifiers++;
        }
        if (m.Message("safe_regex") is FieldReader sr)
        {
            kind = PathMatchKind.SafeRegex;
            regex = ReadRegexMatcher(sr, ignoreCase: false);
            specifiers++;
        }
        if (m.Message("connect_matcher") is FieldReader cm)
        {
            // ConnectMatcher is an empty message: it matches every CONNECT request (and nothing else).
            kind = PathMatchKind.Connect;
            cm.Finish();
            specifiers++;
        }
        m.Unsupported("path_match_policy", "path_match_policy (URI templates)");
        m.Unsupported("grpc", "gRPC route matching");
        m.Unsupported("runtime_fraction", "runtime_fraction");
        m.Unsupported("tls_context", "tls_context matching");
        m.Unsupported("dynamic_metadata", "dynamic_metadata matching");
        ImmutableArray<HeaderMatcherModel>.Builder headers = ImmutableArray.CreateBuilder<HeaderMatcherModel>();
        foreach (ConfigNode h in ctx.Items(m.Take("headers")))
        {
            if (ReadHeaderMatcher(ctx, h) is HeaderMatcherModel hm)
            {
                headers.Add(hm);
            }
        }
        ImmutableArray<QueryParameterMatcherModel>.Builder query = ImmutableArray.CreateBuilder<QueryParameterMatcherModel>();
        foreach (ConfigNode q in ctx.Items(m.Take("query_parameters")))
        {
            if (ReadQueryMatcher(ctx, q) is QueryParameterMatcherModel qm)
            {
                query.Add(qm);
            }
        }
        m.Finish();
        // A match using only an unsupported specifier (connect_matcher…) already has its error.
        bool unsupportedSpecifier = m.Has("path_match_policy");
        if (specifiers > 1 || (specifiers == 0 && !unsupportedSpecifier))
        {
            ctx.Error(node, "exactly one of prefix, path, safe_regex, path_separated_prefix and connect_matcher is required");
            return null;
        }
        if (specifiers == 0 || (kind == PathMatchKind.SafeRegex && regex is null))
        {
            return null;
        }
        return new RouteMatchModel
        {
            Kind = kind!.Value,
            Value = value,
            Regex = regex,
            CaseSensitive = caseSensitive,
            Headers = headers.ToImmutable(),
            QueryParameters = query.ToImmutable(),
        };
    }

    /// <summary><c>type.matcher.v3.RegexMatcher</c>: regex plus the (empty) google_re2 engine marker.</summary>
    public static System.Text.RegularExpressions.Regex? ReadRegexMatcher(FieldReader r, bool ignoreCase)
    {
        if (!r.IsValid)
        {
            return null;
        }
        if (r.Message("google_re2") is FieldReader re2)
        {
            re2.Unsupported("max_program_size", "max_program_size");
            re2.Finish();
        }
        ConfigNode? pattern = r.Take("regex");
        r.Finish();
        if (pattern is null)
        {
            r.Context.Error(r.Node, "regex is required");
            return null;
        }
        return r.Context.Regex(pattern, ignoreCase);
    }

    private static HeaderMatcherModel? ReadHeaderMatcher(TranslationContext ctx, ConfigNode node)
    {
        FieldReader h = new(ctx, node);
        if (!h.IsValid)
        {
            return null;
        }
        ConfigNode? nameNode = h.Take("name");
        string? name = nameNode is null ? null : ctx.String(nameNode);
        if (nameNode is null)
        {
            ctx.Error(node, "name is required");
        }
        else if (name is not null && !HeaderMutationTranslator.ValidName(ctx, nameNode, name))
        {
            name = null;
        }
        bool invert = h.Bool("invert_match") ?? false;
        bool missingAsEmpty = h.Bool("treat_missing_header_as_empty") ?? false;
        int count = 0;
        StringMatcherModel? matcher = null;
        bool present = false;
        void Simple(string field, StringMatchKind kind)
        {
            if (h.String(field) is string v)
            {
                matcher = new StringMatcherModel { Kind = kind, Value = v };
                count++;
            }
        }
        Simple("exact_match", StringMatchKind.Exact);
        Simple("prefix_match", StringMatchKind.Prefix);
        Simple("suffix_match", StringMatchKind.Suffix);
        Simple("contains_match", StringMatchKind.Contains);
        if (h.Message("safe_regex_match") is FieldReader sr)
        {
            matcher = ReadRegexMatcher(sr, false) is { } re ? new StringMatcherModel { Kind = StringMatchKind.SafeRegex, Regex = re } : null;
            count++;
        }
        if (h.Take("string_match") is { } sm)
        {
            matcher = ReadStringMatcher(ctx, sm);
            count++;
        }
        if (h.Bool("present_match") is bool p)
        {
            // present_match: false means "header absent": Envoy's documented meaning, expressed as an inverted presence check.
            present = true;
            invert = p ? invert : !invert;
            count++;
        }
        h.Unsupported("range_match", "range_match");
        h.Finish();
        if (count > 1)
        {
            ctx.Error(node, "at most one header match specifier is allowed");
            return null;
        }
        if (count == 0)
        {
            present = true; // No specifier: Envoy matches on presence.
        }
        return name is null || (!present && matcher is null) ? null : new HeaderMatcherModel
        {
            Name = name.ToLowerInvariant(),
            Matcher = present ? null : matcher,
            PresentMatch = present,
            InvertMatch = invert,
            TreatMissingAsEmpty = missingAsEmpty,
        };
    }

    private static QueryParameterMatcherModel? ReadQueryMatcher(TranslationContext ctx, ConfigNode node)
    {
        FieldReader q = new(ctx, node);
        if (!q.IsValid)
        {
            return null;
        }
        ConfigNode? nameNode = q.Take("name");
        string? name = nameNode is null ? null : ctx.String(nameNode);
        if (nameNode is null)
        {
            ctx.Error(node, "name is required");
        }
        StringMatcherModel? matcher = q.Take("string_match") is { } sm ? ReadStringMatcher(ctx, sm) : null;
        bool? present = q.Bool("present_match");
        if (q.Has("string_match") && present is not null)
        {
            ctx.Error(node, "string_match and present_match are mutually exclusive");
        }
        if (present == false)
        {
            ctx.Unsupported(node, "present_match: false");
        }
        q.Finish();
        return name is null || (q.Has("string_match") && matcher is null) ? null : new QueryParameterMatcherModel
        {
            Name = name,
            Matcher = matcher,
            PresentMatch = matcher is null,
        };
    }

    /// <summary><c>type.matcher.v3.StringMatcher</c>.</summary>
    public static StringMatcherModel? ReadStringMatcher(TranslationContext ctx, ConfigNode node)
    {
        FieldReader s = new(ctx, node);
        if (!s.IsValid)
        {
            return null;
        }
        bool ignoreCase = s.Bool("ignore_case") ?? false;
        int count = 0;
        StringMatcherModel? result = null;
        void Simple(string field, StringMatchKind kind)
        {
            if (s.String(field) is string v)
            {
                result = new StringMatcherModel { Kind = kind, Value = v, IgnoreCase = ignoreCase };
                count++;
            }
        }
        Simple("exact", StringMatchKind.Exact);
        Simple("prefix", StringMatchKind.Prefix);
        Simple("suffix", StringMatchKind.Suffix);
        Simple("contains", StringMatchKind.Contains);
        if (s.Message("safe_regex") is FieldReader sr)
        {
            // Envoy ignores ignore_case for safe_regex; so do we (write (?i) in the pattern instead).
            result = ReadRegexMatcher(sr, ignoreCase: false) is { } re
                ? new StringMatcherModel { Kind = StringMatchKind.SafeRegex, Regex = re }
                : null;
            count++;
        }
        s.Unsupported("custom", "custom string matchers");
        s.Finish();
        if (count != 1)
        {
            ctx.Error(node, "exactly one of exact, prefix, suffix, contains and safe_regex is required");
            return null;
        }
        return result;
    }
}
