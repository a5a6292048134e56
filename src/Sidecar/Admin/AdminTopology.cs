using System.Globalization;
using System.IO.Pipelines;
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

    /// <summary>
    /// Written into the response as it is produced, flushed every 64 KiB: with 10,000 clusters and 100,000 endpoints the
    /// page is ~30 MB, and building it whole (a StringBuilder, its string, then its UTF-8 copy) took the process from
    /// ~126 MB to 310–350 MB RSS, which the collector then kept.
    /// </summary>
    public static async Task WriteClustersAsync(PipeWriter output, ListenerManager? manager, bool json)
    {
        ProxySnapshot? snapshot = manager?.Current;
        if (snapshot is null)
        {
            if (json) Put(output, "{\"cluster_statuses\":[]}\n");
            return;
        }
        string[] names = [.. snapshot.Clusters.Keys];
        Array.Sort(names, StringComparer.Ordinal);
        if (json) Put(output, "{\"cluster_statuses\":[");
        for (int i = 0; i < names.Length; i++)
        {
            ClusterRuntime c = snapshot.Clusters[names[i]];
            if (json) WriteClusterJson(output, names[i], c, first: i == 0);
            else WriteClusterText(output, names[i], c);
            if (output.UnflushedBytes >= FlushEvery) await output.FlushAsync();
        }
        if (json) Put(output, "]}\n");
    }

    private const int FlushEvery = 64 * 1024;

    private static void WriteClusterText(PipeWriter w, string name, ClusterRuntime c)
    {
        foreach (EndpointState e in c.State.Endpoints.Endpoints)
        {
            string prefix = name + "::" + e.Address + "::";
            Put(w, prefix + "rq_active::" + e.ActiveRequests.ToString(CultureInfo.InvariantCulture) + "\n");
            Put(w, prefix + "weight::" + e.Weight.ToString(CultureInfo.InvariantCulture) + "\n");
            Put(w, prefix + "priority::" + e.Priority.ToString(CultureInfo.InvariantCulture) + "\n");
            Put(w, prefix + "health_flags::" + (e.IsAvailable(Environment.TickCount64) ? "healthy" : "/failed_outlier_check") + "\n");
        }
    }

    private static void WriteClusterJson(PipeWriter w, string name, ClusterRuntime c, bool first)
    {
        var sb = new StringBuilder();
        if (!first) sb.Append(',');
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
        Put(w, sb.ToString());
    }

    /// <summary>One piece of the page, UTF-8 encoded straight into the response pipe.</summary>
    private static void Put(PipeWriter w, string text)
    {
        int n = Encoding.UTF8.GetBytes(text, w.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length)));
        w.Advance(n);
    }

    private static string Address(ListenerRuntime l) => (l.BoundEndPoint ?? l.Model.Address).ToString() ?? "";

    private static string Json(string s) => Sidecar.Core.Config.Tree.ConfigJsonWriter.Quote(s);
}
