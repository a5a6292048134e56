using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sidecar.Core.Xds.Integration;

/// <summary>
/// Envoy's <c>/config_dump?resource=…&amp;mask=…</c> over a rendered dump. <c>resource</c> names one repeated field of
/// the top-level dumps (e.g. <c>dynamic_listeners</c>): each element becomes its own entry, typed as the nested message
/// (<c>…ListenersConfigDump.DynamicListener</c>). <c>mask</c> is a FieldMask (comma-separated dotted paths) applied to
/// each top-level dump, or to each element when <c>resource</c> is given; <c>@type</c> is always kept. Paths walk JSON
/// objects (an embedded Any's fields included); a path reaching a list keeps the list whole.
/// </summary>
public static class ConfigDumpFilter
{
    private const string Admin = "type.googleapis.com/envoy.admin.v3.";

    /// <summary>The repeated fields <c>resource</c> may name, and the message type of their elements.</summary>
    private static readonly Dictionary<string, string> ElementTypes = new(StringComparer.Ordinal)
    {
        ["dynamic_active_clusters"] = "ClustersConfigDump.DynamicCluster",
        ["dynamic_warming_clusters"] = "ClustersConfigDump.DynamicCluster",
        ["static_clusters"] = "ClustersConfigDump.StaticCluster",
        ["dynamic_listeners"] = "ListenersConfigDump.DynamicListener",
        ["static_listeners"] = "ListenersConfigDump.StaticListener",
        ["dynamic_route_configs"] = "RoutesConfigDump.DynamicRouteConfig",
        ["static_route_configs"] = "RoutesConfigDump.StaticRouteConfig",
        ["dynamic_endpoint_configs"] = "EndpointsConfigDump.DynamicEndpointConfig",
        ["static_endpoint_configs"] = "EndpointsConfigDump.StaticEndpointConfig",
        ["dynamic_active_secrets"] = "SecretsConfigDump.DynamicSecret",
        ["dynamic_warming_secrets"] = "SecretsConfigDump.DynamicSecret",
        ["static_secrets"] = "SecretsConfigDump.StaticSecret",
    };

    /// <summary>The query's <c>resource</c> and <c>mask</c> (URL-decoded), null when absent.</summary>
    public static (string? Resource, string? Mask) ParseQuery(string query)
    {
        string? resource = null, mask = null;
        foreach (string part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("resource=", StringComparison.Ordinal)) resource = Uri.UnescapeDataString(part[9..]);
            else if (part.StartsWith("mask=", StringComparison.Ordinal)) mask = Uri.UnescapeDataString(part[5..]);
        }
        return (resource, mask);
    }

    /// <summary>The mask's field paths; a 404 (unknown resource field) / 400 (empty mask) and why when the query is refused.</summary>
    public static (int Status, string? Error, string[]? Paths) Check(string? resource, string? mask)
    {
        string[]? paths = null;
        if (mask is not null)
        {
            paths = mask.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (paths.Length == 0) return (400, "mask: no field paths\n", null);
        }
        if (resource is not null && !ElementTypes.ContainsKey(resource))
            return (404, $"resource: {resource} is not a repeated field of a config dump (e.g. dynamic_listeners, dynamic_active_clusters)\n", null);
        return (200, null, paths);
    }

    /// <returns>200 and the filtered dump, or 404 (unknown resource field) / 400 (empty mask) and why.</returns>
    public static (int Status, string Body) Apply(string dumpJson, string? resource, string? mask)
    {
        if (resource is null && mask is null) return (200, dumpJson);
        (int checkStatus, string? error, string[]? paths) = Check(resource, mask);
        if (error is not null) return (checkStatus, error);

        JsonArray configs = JsonNode.Parse(dumpJson)?["configs"]?.AsArray() ?? [];
        var output = new JsonArray();
        foreach (JsonNode? config in configs)
        {
            if (config is not JsonObject dump) continue;
            if (resource is null)
            {
                output.Add((JsonNode)(paths is null ? dump.DeepClone() : Masked(dump, paths)));
                continue;
            }
            if (dump[resource] is not JsonArray elements) continue;
            foreach (JsonNode? element in elements)
            {
                if (element is JsonObject e) output.Add((JsonNode)Element(e, resource, paths));
            }
        }
        return (200, new JsonObject { ["configs"] = output }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>One element of the <paramref name="resource"/> list as its own entry: typed as the nested message, masked.</summary>
    /// <param name="resource">A field <see cref="Check"/> accepted.</param>
    public static JsonObject Element(JsonObject element, string resource, string[]? paths)
    {
        var typed = new JsonObject { ["@type"] = Admin + ElementTypes[resource] };
        JsonObject source = paths is null ? (JsonObject)element.DeepClone() : Masked(element, paths);
        foreach (var kv in source.ToList())
        {
            if (kv.Key == "@type") continue;
            source.Remove(kv.Key);
            typed[kv.Key] = kv.Value;
        }
        return typed;
    }

    /// <summary>A copy of <paramref name="source"/> with only the masked paths (and @type).</summary>
    public static JsonObject Masked(JsonObject source, string[] paths)
    {
        var result = new JsonObject();
        if (source["@type"] is { } type) result["@type"] = type.DeepClone();
        foreach (string path in paths) Copy(source, result, path.Split('.'), 0);
        return result;
    }

    private static void Copy(JsonObject from, JsonObject to, string[] segments, int i)
    {
        if (from[segments[i]] is not { } value) return;
        if (i == segments.Length - 1 || value is not JsonObject nested)
        {
            to[segments[i]] = value.DeepClone();
            return;
        }
        if (to[segments[i]] is not JsonObject target)
        {
            target = [];
            if (nested["@type"] is { } type) target["@type"] = type.DeepClone();
            to[segments[i]] = target;
        }
        Copy(nested, target, segments, i + 1);
    }
}
