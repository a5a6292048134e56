using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Xds.Integration;

/// <summary>
/// Envoy's <c>/config_dump</c> (<c>envoy.admin.v3.ConfigDump</c>) for a proxy driven by xDS: the bootstrap, then
/// clusters, listeners and routes as <c>dynamic_*</c> entries with their version and last update, each resource with
/// its real <c>@type</c> — the shape <c>istioctl proxy-config … -f</c> reads. Endpoints only with <c>include_eds</c>.
/// </summary>
public static class XdsConfigDump
{
    private const string Admin = "type.googleapis.com/envoy.admin.v3.";

    public static string Render(string bootstrapJson, IReadOnlyList<DecodedResource> resources, bool includeEds)
    {
        var sb = new StringBuilder(4096);
        sb.Append("{\n \"configs\": [\n  {\n   \"@type\": \"").Append(Admin).Append("BootstrapConfigDump\",\n   \"bootstrap\": ").Append(bootstrapJson).Append("\n  }");
        Section(sb, "ClustersConfigDump", "dynamic_active_clusters", "cluster", resources, XdsTypeUrls.Cluster, wrapName: false);
        Section(sb, "ListenersConfigDump", "dynamic_listeners", "listener", resources, XdsTypeUrls.Listener, wrapName: true);
        Section(sb, "RoutesConfigDump", "dynamic_route_configs", "route_config", resources, XdsTypeUrls.RouteConfiguration, wrapName: false);
        if (includeEds) Section(sb, "EndpointsConfigDump", "dynamic_endpoint_configs", "endpoint_config", resources, XdsTypeUrls.ClusterLoadAssignment, wrapName: false);
        sb.Append("\n ]\n}\n");
        return sb.ToString();
    }

    private static void Section(StringBuilder sb, string dumpType, string listField, string resourceField, IReadOnlyList<DecodedResource> resources, string typeUrl, bool wrapName)
    {
        sb.Append(",\n  {\n   \"@type\": \"").Append(Admin).Append(dumpType).Append("\",\n   \"").Append(listField).Append("\": [");
        bool first = true;
        foreach (DecodedResource r in resources)
        {
            if (r.TypeUrl != typeUrl) continue;
            sb.Append(first ? "\n    " : ",\n    ");
            first = false;
            string body = ConfigJsonWriter.Write(WithType(r.Tree, typeUrl), indented: false);
            string updated = r.LastUpdated.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            if (wrapName)
            {
                // ListenersConfigDump.DynamicListener: name + active_state{version_info, listener, last_updated}.
                sb.Append("{\"name\": ").Append(Quote(r.Name)).Append(", \"active_state\": {\"version_info\": ").Append(Quote(r.Version))
                  .Append(", \"").Append(resourceField).Append("\": ").Append(body).Append(", \"last_updated\": \"").Append(updated).Append("\"}}");
            }
            else
            {
                sb.Append("{\"version_info\": ").Append(Quote(r.Version)).Append(", \"").Append(resourceField).Append("\": ").Append(body)
                  .Append(", \"last_updated\": \"").Append(updated).Append("\"}");
            }
        }
        sb.Append(first ? "]\n  }" : "\n   ]\n  }");
    }

    private static ConfigNode WithType(ConfigNode tree, string typeUrl)
    {
        if (tree is not ConfigMap map) return tree;
        var entries = ImmutableArray.CreateBuilder<KeyValuePair<string, ConfigNode>>(map.Entries.Length + 1);
        entries.Add(new("@type", new ConfigScalar(map.Path, typeUrl, ScalarKind.String)));
        entries.AddRange(map.Entries);
        return new ConfigMap(map.Path, entries.MoveToImmutable());
    }

    private static string Quote(string s) => ConfigJsonWriter.Quote(s);
}
