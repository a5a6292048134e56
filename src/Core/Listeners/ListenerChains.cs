using Sidecar.Core.Config.Model;
using Sidecar.Core.Proxy;
using Sidecar.Core.Telemetry;
using Sidecar.Core.Transport;

namespace Sidecar.Core.Listeners;

/// <summary>One filter chain compiled for the data path against one snapshot.</summary>
public readonly record struct CompiledChain(FilterChainModel Chain, HttpChainRuntime? Http, TcpChainRuntime? Tcp, TlsTerminator? Tls);

/// <summary>
/// A listener's filter chains compiled against one <see cref="ProxySnapshot"/>: what a connection reads once, at
/// accept. A config update compiles a new instance and publishes it with one reference write; connections already
/// running keep the version they started with.
/// </summary>
public sealed class ListenerChains
{
    private readonly Dictionary<FilterChainModel, CompiledChain> _byModel = [];

    /// <exception cref="TlsBindingException">a chain's TLS context needs a certificate source that is not there.</exception>
    public ListenerChains(ListenerModel model, ProxySnapshot snapshot, StatsStore stats, TlsBindings tls)
    {
        Model = model;
        Snapshot = snapshot;
        string tlsPrefix = "listener." + model.Address.Address + "_" + model.Address.Port + ".";
        foreach (FilterChainModel chain in model.FilterChains) _byModel[chain] = Compile(chain, snapshot, stats, tls, model.Name, tlsPrefix);
        if (model.DefaultFilterChain is { } d) _byModel[d] = Compile(d, snapshot, stats, tls, model.Name, tlsPrefix);
        Selector = FilterChainSelector.Build(model);
    }

    public ListenerModel Model { get; }
    public ProxySnapshot Snapshot { get; }
    public FilterChainSelector Selector { get; }

    public CompiledChain? Find(FilterChainModel? chain) => chain is not null && _byModel.TryGetValue(chain, out CompiledChain c) ? c : null;

    /// <summary>
    /// Links each HTTP chain of this (older) version to the chain of <paramref name="next"/> that takes its place — the
    /// chain with the same name (Istio names every chain), or at the same position when unnamed, or the default chain —
    /// so open connections move to the new routes at their next request. A chain with no successor keeps its version.
    /// </summary>
    public void HandOver(ListenerChains next)
    {
        for (int i = 0; i < Model.FilterChains.Length; i++)
        {
            FilterChainModel old = Model.FilterChains[i];
            FilterChainModel? successor = null;
            if (old.Name.Length > 0)
            {
                foreach (FilterChainModel candidate in next.Model.FilterChains)
                {
                    if (candidate.Name == old.Name)
                    {
                        successor = candidate;
                        break;
                    }
                }
            }
            else if (i < next.Model.FilterChains.Length && next.Model.FilterChains[i].Name.Length == 0)
            {
                successor = next.Model.FilterChains[i];
            }
            Link(Find(old), next.Find(successor));
        }
        Link(Find(Model.DefaultFilterChain), next.Find(next.Model.DefaultFilterChain));
    }

    private static void Link(CompiledChain? old, CompiledChain? next)
    {
        if (old?.Http is { } o && next?.Http is { } n) o.SupersedeBy(n);
    }

    private static CompiledChain Compile(FilterChainModel chain, ProxySnapshot snapshot, StatsStore stats, TlsBindings tls, string listenerName, string tlsPrefix) =>
        new(chain,
            chain.Http is { } h ? SnapshotBuilder.BuildHttpChain(h, snapshot, stats) : null,
            chain.TcpProxy is { } t ? SnapshotBuilder.BuildTcpChain(t, snapshot, stats) : null,
            chain.Tls is { } d ? tls.BuildTerminator(d, listenerName, tlsPrefix, stats) : null);
}
