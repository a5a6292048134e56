using System.Collections.Immutable;
using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Balancing;

/// <summary>
/// An immutable snapshot of a cluster's endpoints grouped by priority, then locality. A cluster
/// swaps the whole set with one reference write when DNS or EDS changes it, so pickers never see a
/// half-updated list. Priority: the lowest priority with an available endpoint takes all traffic
/// (Envoy without overprovisioning spill-over). Locality: weighted by load_balancing_weight among
/// localities of that priority that have an available endpoint.
/// </summary>
public sealed class EndpointSet
{
    public static readonly EndpointSet Empty = new([], SharedRandomSource.Instance);

    private readonly PriorityLevel[] _levels;

    /// <param name="random">Used once to start round-robin cursors at random offsets, as Envoy does,
    /// so a refreshed set does not send the next burst of requests to the first endpoint.</param>
    public EndpointSet(IReadOnlyList<EndpointState> endpoints, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(random);
        Endpoints = [.. endpoints];
        var priorities = new SortedDictionary<int, List<(LocalityEndpointsModel? Locality, List<EndpointState> Members)>>();
        foreach (EndpointState endpoint in endpoints)
        {
            if (!priorities.TryGetValue(endpoint.Priority, out var localities))
            {
                localities = [];
                priorities.Add(endpoint.Priority, localities);
            }

            int found = localities.FindIndex(l => ReferenceEquals(l.Locality, endpoint.Locality));
            if (found < 0)
            {
                localities.Add((endpoint.Locality, [endpoint]));
            }
            else
            {
                localities[found].Members.Add(endpoint);
            }
        }

        _levels = new PriorityLevel[priorities.Count];
        int level = 0;
        foreach (var localities in priorities.Values)
        {
            var groups = new LocalityGroup[localities.Count];
            for (int i = 0; i < groups.Length; i++)
            {
                EndpointState[] members = [.. localities[i].Members];
                groups[i] = new LocalityGroup(members, localities[i].Locality?.Weight ?? 1, random.Next(members.Length));
            }

            _levels[level++] = new PriorityLevel(groups);
        }
    }

    public ImmutableArray<EndpointState> Endpoints { get; }

    public bool IsEmpty => Endpoints.IsEmpty;

    internal EndpointState? Pick(LbPolicy policy, int choiceCount, IRandomSource random, long now)
    {
        PriorityLevel[] levels = _levels;
        foreach (PriorityLevel level in levels)
        {
            LocalityGroup? group = level.PickLocality(random, now);
            if (group is not null)
            {
                EndpointState? picked = LoadBalancers.Pick(group, policy, choiceCount, random, now, ignoreHealth: false);
                if (picked is not null)
                {
                    return picked;
                }
            }
        }

        // Envoy panic mode: nothing available anywhere, so balance across the first priority regardless of health.
        if (levels.Length == 0)
        {
            return null;
        }

        LocalityGroup[] first = levels[0].Localities;
        return LoadBalancers.Pick(first[random.Next(first.Length)], policy, choiceCount, random, now, ignoreHealth: true);
    }

    private sealed class PriorityLevel(LocalityGroup[] localities)
    {
        public LocalityGroup[] Localities { get; } = localities;

        /// <summary>Weighted choice among localities with an available endpoint; null if there are none.</summary>
        public LocalityGroup? PickLocality(IRandomSource random, long now)
        {
            LocalityGroup[] groups = Localities;
            if (groups.Length == 1)
            {
                return groups[0].HasAvailable(now) ? groups[0] : null;
            }

            long total = 0;
            foreach (LocalityGroup group in groups)
            {
                if (group.LocalityWeight > 0 && group.HasAvailable(now))
                {
                    total += group.LocalityWeight;
                }
            }

            if (total == 0)
            {
                return null;
            }

            long draw = random.Next((int)Math.Min(total, int.MaxValue));
            LocalityGroup? last = null;
            foreach (LocalityGroup group in groups)
            {
                if (group.LocalityWeight <= 0 || !group.HasAvailable(now))
                {
                    continue;
                }

                last = group;
                draw -= group.LocalityWeight;
                if (draw < 0)
                {
                    return group;
                }
            }

            return last;
        }
    }
}
