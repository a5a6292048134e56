using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Balancing;

/// <summary>
/// Turns a cluster's configured endpoints into <see cref="EndpointState"/>s: IP literals directly,
/// host names through <see cref="IDnsResolver"/>. STRICT_DNS keeps every address (IPv4 preferred:
/// if a name has any IPv4 address only those are used, like Envoy's V4_PREFERRED); LOGICAL_DNS
/// keeps only the first address of its single host. A failed lookup keeps that host's previous
/// addresses, as Envoy does. Runs off the hot path; allocation here is fine.
/// </summary>
internal sealed class ClusterDnsResolver
{
    private readonly ClusterModel _model;
    private readonly IDnsResolver _resolver;
    /// <summary>Last good addresses per (locality, endpoint), reused when a lookup fails.</summary>
    private readonly IPAddress[][][] _lastGood;

    public ClusterDnsResolver(ClusterModel model, IDnsResolver resolver)
    {
        _model = model;
        _resolver = resolver;
        _lastGood = new IPAddress[model.Localities.Length][][];
        for (int l = 0; l < _lastGood.Length; l++)
        {
            _lastGood[l] = new IPAddress[model.Localities[l].Endpoints.Length][];
            for (int e = 0; e < _lastGood[l].Length; e++)
            {
                _lastGood[l][e] = [];
            }
        }
    }

    /// <summary>Resolves every host concurrently and returns the endpoint list, reusing <paramref name="previous"/> states.</summary>
    public async Task<List<EndpointState>> ResolveAsync(ImmutableArray<EndpointState> previous, CancellationToken cancellationToken)
    {
        ImmutableArray<LocalityEndpointsModel> localities = _model.Localities;
        var lookups = new List<(int Locality, int Endpoint, Task<IPAddress[]> Task)>();
        for (int l = 0; l < localities.Length; l++)
        {
            for (int e = 0; e < localities[l].Endpoints.Length; e++)
            {
                EndpointModel endpoint = localities[l].Endpoints[e];
                if (LiteralAddress(endpoint) is null)
                {
                    lookups.Add((l, e, _resolver.ResolveAsync(endpoint.Host, cancellationToken)));
                }
            }
        }

        foreach ((int l, int e, Task<IPAddress[]> task) in lookups)
        {
            try
            {
                IPAddress[] addresses = Prefer(await task.ConfigureAwait(false));
                if (addresses.Length > 0)
                {
                    _lastGood[l][e] = _model.Type == DiscoveryType.LogicalDns ? [addresses[0]] : addresses;
                }
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Keep the last good addresses; the next refresh tries again.
            }
        }

        var reuse = new Dictionary<(EndpointModel, IPEndPoint), EndpointState>();
        foreach (EndpointState state in previous)
        {
            if (state.Source is not null)
            {
                reuse.TryAdd((state.Source, state.Address), state);
            }
        }

        var result = new List<EndpointState>();
        for (int l = 0; l < localities.Length; l++)
        {
            LocalityEndpointsModel locality = localities[l];
            for (int e = 0; e < locality.Endpoints.Length; e++)
            {
                EndpointModel endpoint = locality.Endpoints[e];
                IPAddress? literal = LiteralAddress(endpoint);
                IPAddress[] addresses = literal is not null ? [literal] : _lastGood[l][e];
                foreach (IPAddress address in addresses)
                {
                    var ip = new IPEndPoint(address, endpoint.Port);
                    result.Add(reuse.TryGetValue((endpoint, ip), out EndpointState? existing)
                        ? existing
                        : new EndpointState(ip, endpoint.Weight, locality.Priority, locality, endpoint.Host) { Source = endpoint });
                }
            }
        }

        return result;
    }

    /// <summary>Endpoints whose address needs no lookup (STATIC, EDS, or IP literals in DNS clusters).</summary>
    public static List<EndpointState> FromLiterals(ImmutableArray<LocalityEndpointsModel> localities)
    {
        var result = new List<EndpointState>();
        foreach (LocalityEndpointsModel locality in localities)
        {
            foreach (EndpointModel endpoint in locality.Endpoints)
            {
                IPAddress? address = LiteralAddress(endpoint);
                if (address is not null)
                {
                    result.Add(new EndpointState(new IPEndPoint(address, endpoint.Port), endpoint.Weight, locality.Priority,
                        locality, endpoint.Host) { Source = endpoint });
                }
            }
        }

        return result;
    }

    private static IPAddress? LiteralAddress(EndpointModel endpoint) =>
        endpoint.Address ?? (IPAddress.TryParse(endpoint.Host, out IPAddress? parsed) ? parsed : null);

    private static IPAddress[] Prefer(IPAddress[] addresses)
    {
        int v4 = 0;
        foreach (IPAddress address in addresses)
        {
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                v4++;
            }
        }

        if (v4 == 0 || v4 == addresses.Length)
        {
            return addresses;
        }

        var only = new IPAddress[v4];
        int i = 0;
        foreach (IPAddress address in addresses)
        {
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                only[i++] = address;
            }
        }

        return only;
    }
}
