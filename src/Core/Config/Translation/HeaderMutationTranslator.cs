using System.Collections.Immutable;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary><c>*_headers_to_add</c> / <c>*_headers_to_remove</c> pairs (route config, virtual host, route).</summary>
internal static class HeaderMutationTranslator
{
    /// <summary>Reads "{prefix}_headers_to_add" and "{prefix}_headers_to_remove" (prefix "request" or "response").</summary>
    public static HeaderMutationModel Read(FieldReader r, string prefix)
    {
        TranslationContext ctx = r.Context;
        ImmutableArray<HeaderValueOptionModel>.Builder add = ImmutableArray.CreateBuilder<HeaderValueOptionModel>();
        foreach (ConfigNode item in ctx.Items(r.Take(prefix + "_headers_to_add")))
        {
            if (ReadOption(ctx, item) is HeaderValueOptionModel o)
            {
                add.Add(o);
            }
        }
        ImmutableArray<string>.Builder remove = ImmutableArray.CreateBuilder<string>();
        foreach (ConfigNode item in ctx.Items(r.Take(prefix + "_headers_to_remove")))
        {
            if (ctx.String(item) is string name && ValidName(ctx, item, name))
            {
                remove.Add(name.ToLowerInvariant());
            }
        }
        return add.Count == 0 && remove.Count == 0
            ? HeaderMutationModel.None
            : new HeaderMutationModel { Add = add.ToImmutable(), Remove = remove.ToImmutable() };
    }

    private static HeaderValueOptionModel? ReadOption(TranslationContext ctx, ConfigNode item)
    {
        FieldReader o = new(ctx, item);
        if (!o.IsValid)
        {
            return null;
        }
        FieldReader? header = o.Message("header");
        string? key = null;
        string? value = null;
        if (header is { IsValid: true })
        {
            ConfigNode? keyNode = header.Take("key");
            key = keyNode is null ? null : ctx.String(keyNode);
            value = header.Take("value") is { } vn ? ctx.String(vn) : "";
            header.Unsupported("raw_value", "raw_value");
            if (keyNode is null)
            {
                ctx.Error(header.Node, "key is required");
            }
            else if (key is not null && !ValidName(ctx, keyNode, key))
            {
                key = null;
            }
            if (value is not null && value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            {
                ctx.Error(header.Node, "header value must not contain CR, LF or NUL");
                value = null;
            }
            header.Finish();
        }
        else if (header is null)
        {
            ctx.Error(item, "header is required");
        }
        string? actionName = o.Enum("append_action", "APPEND_IF_EXISTS_OR_ADD", "ADD_IF_ABSENT", "OVERWRITE_IF_EXISTS_OR_ADD");
        HeaderAppendAction action = actionName switch
        {
            "ADD_IF_ABSENT" => HeaderAppendAction.AddIfAbsent,
            "OVERWRITE_IF_EXISTS_OR_ADD" => HeaderAppendAction.OverwriteIfExistsOrAdd,
            _ => HeaderAppendAction.AppendIfExistsOrAdd,
        };
        if (o.Take("append") is { } an && ctx.Bool(an) is bool append)
        {
            // Deprecated bool: true = append (the default), false = overwrite. Envoy rejects both fields together.
            if (o.Has("append_action"))
            {
                ctx.Error(an, "append and append_action are mutually exclusive");
            }
            action = append ? HeaderAppendAction.AppendIfExistsOrAdd : HeaderAppendAction.OverwriteIfExistsOrAdd;
        }
        o.Unsupported("keep_empty_value", "keep_empty_value");
        o.Finish();
        return key is null || value is null ? null : new HeaderValueOptionModel { Name = key.ToLowerInvariant(), Value = value, Action = action };
    }

    /// <summary>RFC 9110 token characters (pseudo-headers like ":authority" allowed); anything else could split a head.</summary>
    internal static bool ValidName(TranslationContext ctx, ConfigNode node, string name)
    {
        ReadOnlySpan<char> n = name.StartsWith(':') ? name.AsSpan(1) : name.AsSpan();
        bool ok = !n.IsEmpty;
        foreach (char c in n)
        {
            ok &= char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
        }
        if (!ok)
        {
            ctx.Error(node, $"invalid header name \"{name}\"");
        }
        return ok;
    }
}
