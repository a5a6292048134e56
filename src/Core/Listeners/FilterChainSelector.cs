using System.Collections.Immutable;
using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Listeners;

/// <summary>
/// Picks a listener's filter chain for a new connection the way Envoy's <c>filter_chain_match</c> does.
/// Criteria are applied in Envoy's order — destination_port, (destination IP: not modelled),
/// server_names, transport_protocol, application_protocols, (source type/IP/port: not modelled) — and
/// each one narrows only among the chains that specify it: if some surviving chain names the
/// connection's value, only those stay; otherwise only the chains that leave the criterion unset stay.
/// There is no backtracking: once a level has narrowed, a later level that finds nothing yields
/// the listener's default_filter_chain (or no chain), never a chain discarded earlier.
/// </summary>
/// <remarks>
/// Built once per listener; <see cref="Select"/> is thread-safe and allocation-free.
/// </remarks>
public sealed class FilterChainSelector
{
    private static readonly string?[] AnyOnly = [null];

    private readonly MatchLevel<int, ServerNameLevel<MatchLevel<string, MatchLevel<string, FilterChainModel>>>> _ports;
    private readonly FilterChainModel? _default;
    private long _noFilterChainMatch;

    private FilterChainSelector(
        MatchLevel<int, ServerNameLevel<MatchLevel<string, MatchLevel<string, FilterChainModel>>>> ports,
        FilterChainModel? defaultChain,
        bool needsTlsInspection)
    {
        _ports = ports;
        _default = defaultChain;
        NeedsTlsInspection = needsTlsInspection;
    }

    /// <summary>
    /// True when some chain matches on server_names, transport_protocol or application_protocols, i.e.
    /// the caller must sniff the first bytes (TLS ClientHello) before it can select. When false, pass
    /// null / "raw_buffer" / empty and skip detection, as Envoy does without a tls_inspector.
    /// </summary>
    public bool NeedsTlsInspection { get; }

    /// <summary>Envoy listener stat <c>no_filter_chain_match</c>: connections for which <see cref="Select"/> returned null.</summary>
    public long NoFilterChainMatch => Interlocked.Read(ref _noFilterChainMatch);

    /// <summary>
    /// Compiles the listener's chains into Envoy's match tree. Throws <see cref="ArgumentException"/>
    /// for two chains with identical match criteria (Envoy: "multiple filter chains with the same
    /// matching rules are defined") or a server name with a non-leading wildcard.
    /// </summary>
    public static FilterChainSelector Build(ListenerModel listener)
    {
        var ports = new MatchLevel<int, ServerNameLevel<MatchLevel<string, MatchLevel<string, FilterChainModel>>>>();
        bool needsTlsInspection = false;
        foreach (FilterChainModel chain in listener.FilterChains)
        {
            FilterChainMatchModel match = chain.Match;
            needsTlsInspection |= !match.ServerNames.IsDefaultOrEmpty
                || match.TransportProtocol is not null
                || !match.ApplicationProtocols.IsDefaultOrEmpty;

            ServerNameLevel<MatchLevel<string, MatchLevel<string, FilterChainModel>>> names =
                match.DestinationPort is int port
                    ? ports.GetOrAdd(port, static () => new())
                    : ports.GetOrAddAny(static () => new());
            foreach (string? serverName in OrAny(match.ServerNames))
            {
                MatchLevel<string, MatchLevel<string, FilterChainModel>> transports =
                    names.GetOrAdd(serverName, static () => new(StringComparer.Ordinal));
                MatchLevel<string, FilterChainModel> alpns =
                    match.TransportProtocol is { } transport
                        ? transports.GetOrAdd(transport, static () => new(StringComparer.Ordinal))
                        : transports.GetOrAddAny(static () => new(StringComparer.Ordinal));
                foreach (string? protocol in OrAny(match.ApplicationProtocols))
                {
                    FilterChainModel existing = protocol is null
                        ? alpns.GetOrAddAny(() => chain)
                        : alpns.GetOrAdd(protocol, () => chain);
                    if (!ReferenceEquals(existing, chain))
                    {
                        throw new ArgumentException(
                            $"listener '{listener.Name}': filter chains '{existing.Name}' and '{chain.Name}' have the same matching rules.",
                            nameof(listener));
                    }
                }
            }
        }

        return new FilterChainSelector(ports, listener.DefaultFilterChain, needsTlsInspection);
    }

    /// <summary>
    /// Returns the matching chain, else the listener's default chain, else null — in which case the
    /// caller closes the connection (and <see cref="NoFilterChainMatch"/> has been incremented).
    /// </summary>
    /// <param name="destinationPort">The (original) destination port of the connection.</param>
    /// <param name="serverName">SNI from the ClientHello, or null.</param>
    /// <param name="transportProtocol">"tls" or "raw_buffer".</param>
    /// <param name="applicationProtocols">ALPN ids in the client's preference order; the first one any chain names wins.</param>
    public FilterChainModel? Select(int destinationPort, string? serverName, string transportProtocol, ReadOnlySpan<string> applicationProtocols)
    {
        FilterChainModel? chain = _ports.Find(destinationPort)
            ?.Find(serverName)
            ?.Find(transportProtocol) is { } alpns
            ? FindByApplicationProtocol(alpns, applicationProtocols)
            : null;

        chain ??= _default;
        if (chain is null)
        {
            Interlocked.Increment(ref _noFilterChainMatch);
        }

        return chain;
    }

    private static FilterChainModel? FindByApplicationProtocol(MatchLevel<string, FilterChainModel> alpns, ReadOnlySpan<string> offered)
    {
        // Envoy walks the client's list in order and takes the first id some chain names.
        foreach (string protocol in offered)
        {
            if (alpns.Specific.TryGetValue(protocol, out FilterChainModel? chain))
            {
                return chain;
            }
        }

        return alpns.Any;
    }

    /// <summary>The configured values, or a single null meaning "criterion not set".</summary>
    private static IEnumerable<string?> OrAny(ImmutableArray<string> values) =>
        values.IsDefaultOrEmpty ? AnyOnly : values;

}
