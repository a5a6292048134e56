using System.Globalization;
using System.Text;
using Sidecar.Core.Balancing;
using Sidecar.Core.Listeners;
using Sidecar.Core.Proxy;

namespace Sidecar.Admin;

/// <summary>
/// Envoy's <c>/listeners</c> and <c>/clusters</c> admin pages for the version now serving, in Envoy's text form and
/// with <c>?format=json</c> in its <c>ListenersStatus</c> / <c>ClustersStatus</c> shape (what
/// <c>istioctl proxy-config listener|endpoint</c> read).
/// </summary>
internal static class AdminTopology
{
    public static string Listeners(ListenerManager? manager, bool json)
    {
        IReadOnlyList<ListenerRuntime> listeners = manager?.Listeners ?? [];
        var sb = new StringBuilder();
        if (!json)
        {
            foreach (ListenerRuntime l in listeners) sb.Append(l.Model.Name).Append("::").Append(Address(l)).Append('\n');
            return sb.ToString();
        }
        sb.Append("{\"listener_statuses\":[");
        for (int i = 0; i < listeners.Count; i++)
        {
            ListenerRuntime l = listeners[i];
            if (i > 0) sb.Append(',');
            var ep = (l.BoundEndPoint as System.Net.IPEndPoint) ?? l.Model.Address;
            sb.Append("{\"name\":").Append(Json(l.Model.Name)).Append(",\"local_address\":{\"socket_address\":{\"address\":")
              .Append(Json(ep.Address.ToString())).Append(",\"port_value\":").Append(ep.Port).Append("}}}");
        }
        return sb.Append("]}\n").ToString();
    }

    public static string Clusters(ListenerManager? manager, bool json)
    {
        ProxySnapshot? snapshot = manager?.Current;
        var sb = new StringBuilder();
        if (snapshot is null) return json ? "{\"cluster_statuses\":[]}\n" : "";
        if (!json)
        {
            foreach ((string name, ClusterRuntime c) in snapshot.Clusters.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                foreach (EndpointState e in c.State.Endpoints.Endpoints)
                {
                    string prefix = name + "::" + e.Address + "::";
                    sb.Append(prefix).Append("rq_active::").Append(e.ActiveRequests).Append('\n');
                    sb.Append(prefix).Append("weight::").Append(e.Weight).Append('\n');
                    sb.Append(prefix).Append("priority::").Append(e.Priority).Append('\n');
                    sb.Append(prefix).Append("health_flags::").Append(e.IsAvailable(Environment.TickCount64) ? "healthy" : "/failed_outlier_check").Append('\n');
                }
            }
            return sb.ToString();
        }
        sb.Append("{\"cluster_statuses\":[");
        bool firstCluster = true;
        foreach ((string name, ClusterRuntime c) in snapshot.Clusters.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            if (!firstCluster) sb.Append(',');
            firstCluster = false;
            sb.Append("{\"name\":").Append(Json(name)).Append(",\"host_statuses\":[");
            bool firstHost = true;
            foreach (EndpointState e in c.State.Endpoints.Endpoints)
            {
                if (!firstHost) sb.Append(',');
                firstHost = false;
                bool healthy = e.IsAvailable(Environment.TickCount64);
                sb.Append("{\"address\":{\"socket_address\":{\"address\":").Append(Json(e.Address.Address.ToString()))
                  .Append(",\"port_value\":").Append(e.Address.Port).Append("}},\"stats\":[{\"name\":\"rq_active\",\"type\":\"GAUGE\",\"value\":\"")
                  .Append(e.ActiveRequests.ToString(CultureInfo.InvariantCulture)).Append("\"}],\"health_status\":{\"eds_health_status\":\"HEALTHY\"")
                  .Append(healthy ? "" : ",\"failed_outlier_check\":true").Append("},\"weight\":").Append(e.Weight)
                  .Append(",\"priority\":").Append(e.Priority);
                if (e.Locality is { } loc)
                {
                    sb.Append(",\"locality\":{\"region\":").Append(Json(loc.Region)).Append(",\"zone\":").Append(Json(loc.Zone))
                      .Append(",\"sub_zone\":").Append(Json(loc.SubZone)).Append('}');
                }
                sb.Append('}');
            }
            sb.Append("]}");
        }
        return sb.Append("]}\n").ToString();
    }

    private static string Address(ListenerRuntime l) => (l.BoundEndPoint ?? l.Model.Address).ToString() ?? "";

    private static string Json(string s) => Sidecar.Core.Config.Tree.ConfigJsonWriter.Quote(s);
}
