using System.Buffers;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Pools;

namespace Sidecar.Core.Proxy;

internal sealed partial class Http1ProxySession
{
    /// <summary>
    /// CONNECT terminated here (route upgrade_configs CONNECT with connect_config, as Envoy): open a TCP
    /// connection to the route's cluster, answer 200, then relay bytes both ways until either side ends.
    /// The connection is never pooled and the downstream connection ends with the tunnel.
    /// </summary>
    private async ValueTask<bool> TerminateConnectAsync(RouteActionModel action)
    {
        ClusterRuntime? cluster = BeginClusterRequest(action, out ProxyError refused);
        if (cluster is null) return await ReplyLocalAsync(refused);
        UpstreamConnection? upstream = null;
        try
        {
            cluster.Stats.UpstreamRqTotal.Increment();
            (upstream, ProxyError error) = await GetConnectionAsync(cluster, allowPooled: false);
            if (upstream is null) return await ReplyLocalAsync(error);
            _activeUpstream = upstream;
            _out.Write("HTTP/1.1 200 OK\r\n\r\n"u8);
            _chain.Stats.CountResponse(200);
            cluster.Stats.CountResponse(200);
            _chain.Stats.DownstreamCxUpgradesTotal.Increment();
            await _out.FlushAsync();
            await RelayUntilEitherEndsAsync(upstream);
            return false;
        }
        finally
        {
            _activeUpstream = null;
            if (upstream is not null)
            {
                await upstream.DisposeAsync();
            }
            cluster.State.ReleaseRequest();
        }
    }
}
