using Sidecar.Core.Config.Model;
using Sidecar.Core.Http;

namespace Sidecar.Core.Routing;

/// <summary>
/// A <see cref="RouteConfigModel"/> compiled once per config snapshot for allocation-free request
/// matching: domain lookup is a few frozen-dictionary probes, then routes are tried first-match in
/// config order, exactly as Envoy does. Immutable and safe to share across threads.
/// </summary>
public sealed class RouteTable
{
    private readonly VirtualHostIndex<CompiledVirtualHost> _hosts;

    private RouteTable(RouteConfigModel config, VirtualHostIndex<CompiledVirtualHost> hosts)
    {
        Config = config;
        _hosts = hosts;
    }

    public RouteConfigModel Config { get; }

    /// <exception cref="ArgumentException">A domain is listed twice, or a regex route has no regex.</exception>
    public static RouteTable Build(RouteConfigModel config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var domains = new List<KeyValuePair<string, CompiledVirtualHost>>();
        foreach (VirtualHostModel host in config.VirtualHosts)
        {
            var compiled = new CompiledVirtualHost(host);
            foreach (string domain in host.Domains)
            {
                domains.Add(new(domain, compiled));
            }
        }

        return new RouteTable(config, new VirtualHostIndex<CompiledVirtualHost>(domains));
    }

    /// <summary>
    /// Selects the virtual host by Host/:authority and returns the first matching route, or null.
    /// <paramref name="virtualHost"/> is set whenever a virtual host matched (so callers can tell
    /// Envoy's "no virtual host" from "no route"; both are 404 NR).
    /// </summary>
    public RouteModel? Match<TRequest>(ref TRequest request, out VirtualHostModel? virtualHost)
        where TRequest : IRequestView, allows ref struct
    {
        CompiledVirtualHost? host = _hosts.Find(request.Authority);
        if (host is null)
        {
            virtualHost = null;
            return null;
        }

        virtualHost = host.Model;
        ReadOnlySpan<byte> pathAndQuery = request.PathAndQuery;
        int end = pathAndQuery.IndexOfAny((byte)'?', (byte)'#');
        ReadOnlySpan<byte> path = end < 0 ? pathAndQuery : pathAndQuery[..end];
        ReadOnlySpan<byte> query = default;
        if (end >= 0 && pathAndQuery[end] == (byte)'?')
        {
            query = pathAndQuery[(end + 1)..];
            int fragment = query.IndexOf((byte)'#');
            if (fragment >= 0)
            {
                query = query[..fragment];
            }
        }

        foreach (CompiledRoute route in host.Routes)
        {
            if (route.Matches(ref request, path, query))
            {
                return route.Model;
            }
        }

        return null;
    }

    private sealed class CompiledVirtualHost
    {
        public CompiledVirtualHost(VirtualHostModel model)
        {
            Model = model;
            Routes = new CompiledRoute[model.Routes.Length];
            for (int i = 0; i < Routes.Length; i++)
            {
                Routes[i] = new CompiledRoute(model.Routes[i]);
            }
        }

        public VirtualHostModel Model { get; }
        public CompiledRoute[] Routes { get; }
    }
}
