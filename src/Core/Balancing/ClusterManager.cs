using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Balancing;

/// <summary>
/// The <see cref="ClusterState"/>s of one config snapshot, by cluster name. Lookup is a frozen
/// dictionary probe with the route's cluster string (no allocation). Dispose stops DNS timers.
/// </summary>
public sealed class ClusterManager : IDisposable
{
    public ClusterManager(BootstrapModel bootstrap, IDnsResolver? dnsResolver = null, TimeProvider? timeProvider = null,
        IRandomSource? random = null)
        : this((bootstrap ?? throw new ArgumentNullException(nameof(bootstrap))).Clusters.Values, dnsResolver, timeProvider, random)
    {
    }

    public ClusterManager(IEnumerable<ClusterModel> clusters, IDnsResolver? dnsResolver = null, TimeProvider? timeProvider = null,
        IRandomSource? random = null)
    {
        ArgumentNullException.ThrowIfNull(clusters);
        var states = new Dictionary<string, ClusterState>(StringComparer.Ordinal);
        foreach (ClusterModel model in clusters)
        {
            states.Add(model.Name, new ClusterState(model, dnsResolver, timeProvider, random));
        }

        Clusters = new NameDictionary<ClusterState>(states);
    }

    /// <summary>A manager over states some of which carry over from a previous config version (their DNS timers keep running).</summary>
    public ClusterManager(NameDictionary<ClusterState> states)
    {
        Clusters = states;
    }

    public NameDictionary<ClusterState> Clusters { get; }

    public ClusterState? Get(string name) => Clusters.GetValueOrDefault(name);

    public bool TryGet(string name, out ClusterState? cluster) => Clusters.TryGetValue(name, out cluster);

    /// <summary>
    /// Envoy cluster warming: resolve every DNS cluster once (a failed lookup leaves it empty), then
    /// start the periodic refresh timers.
    /// </summary>
    public Task InitializeAsync(CancellationToken cancellationToken = default) => WarmAsync(Clusters.Values, cancellationToken);

    /// <summary>Warming (see <see cref="InitializeAsync"/>) of some clusters: those a new config version created.</summary>
    public static async Task WarmAsync(IReadOnlyCollection<ClusterState> clusters, CancellationToken cancellationToken = default)
    {
        var pending = new List<Task>();
        foreach (ClusterState cluster in clusters)
        {
            if (cluster.UsesDns)
            {
                pending.Add(cluster.RefreshDnsAsync(cancellationToken));
            }
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
        foreach (ClusterState cluster in clusters)
        {
            cluster.StartDnsRefresh();
        }
    }

    public void Dispose()
    {
        foreach (ClusterState cluster in Clusters.Values)
        {
            cluster.Dispose();
        }
    }
}
