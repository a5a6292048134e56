using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Tests.Support;

/// <summary>Terse builders for route config models used by routing tests.</summary>
public static class RouteConfigs
{
    public static RouteModel Route(string name, PathMatchKind kind, string value, bool caseSensitive = true,
        HeaderMatcherModel[]? headers = null, QueryParameterMatcherModel[]? query = null) =>
        new()
        {
            Name = name,
            Match = new RouteMatchModel
            {
                Kind = kind,
                Value = kind == PathMatchKind.SafeRegex ? "" : value,
                Regex = kind == PathMatchKind.SafeRegex ? new Regex(value) : null,
                CaseSensitive = caseSensitive,
                Headers = headers is null ? [] : [.. headers],
                QueryParameters = query is null ? [] : [.. query],
            },
            Action = new RouteActionModel { Cluster = name },
        };

    public static RouteModel Prefix(string name, string prefix, params HeaderMatcherModel[] headers) =>
        Route(name, PathMatchKind.Prefix, prefix, headers: headers);

    public static VirtualHostModel Host(string name, string[] domains, params RouteModel[] routes) =>
        new() { Name = name, Domains = [.. domains], Routes = [.. routes] };

    public static RouteConfigModel RouteConfig(params VirtualHostModel[] hosts) =>
        new() { Name = "test", VirtualHosts = [.. hosts] };

    public static StringMatcherModel Str(StringMatchKind kind, string value, bool ignoreCase = false) =>
        new()
        {
            Kind = kind,
            Value = value,
            IgnoreCase = ignoreCase,
            Regex = kind == StringMatchKind.SafeRegex ? new Regex(value) : null,
        };

    public static HeaderMatcherModel Header(string name, StringMatcherModel? matcher, bool invert = false,
        bool treatMissingAsEmpty = false, bool present = false) =>
        new() { Name = name, Matcher = matcher, InvertMatch = invert, TreatMissingAsEmpty = treatMissingAsEmpty, PresentMatch = present };

    public static ImmutableArray<WeightedClusterModel> Weighted(params (string Name, int Weight)[] clusters)
    {
        var builder = ImmutableArray.CreateBuilder<WeightedClusterModel>();
        foreach ((string name, int weight) in clusters)
        {
            builder.Add(new WeightedClusterModel { Name = name, Weight = weight });
        }

        return builder.ToImmutable();
    }
}
