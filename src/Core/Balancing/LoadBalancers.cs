using Sidecar.Core.Config.Model;

namespace Sidecar.Core.Balancing;

/// <summary>
/// The per-locality pick algorithms. All are lock-free, allocation-free and skip ejected endpoints
/// (unless <c>ignoreHealth</c>, Envoy's panic mode when nothing is healthy).
/// </summary>
internal static class LoadBalancers
{
    /// <summary>Random retries before falling back to a linear scan for an available endpoint.</summary>
    private const int RandomAttempts = 3;

    public static EndpointState? Pick(LocalityGroup group, LbPolicy policy, int choiceCount, IRandomSource random,
        long now, bool ignoreHealth) => policy switch
    {
        LbPolicy.LeastRequest => LeastRequest(group, choiceCount, random, now, ignoreHealth),
        LbPolicy.Random => Random(group, random, now, ignoreHealth),
        _ => RoundRobin(group, now, ignoreHealth),
    };

    /// <summary>Smooth weighted round robin replayed from the group's precomputed schedule.</summary>
    private static EndpointState? RoundRobin(LocalityGroup group, long now, bool ignoreHealth)
    {
        int[] schedule = group.Schedule;
        uint start = group.NextCursor();
        for (int attempt = 0; attempt < schedule.Length; attempt++)
        {
            EndpointState endpoint = group.Endpoints[schedule[(start + (uint)attempt) % (uint)schedule.Length]];
            if (ignoreHealth || endpoint.IsAvailable(now))
            {
                return endpoint;
            }
        }

        return null;
    }

    /// <summary>Weighted random: uniform index for equal weights, else binary search on cumulative weights.</summary>
    private static EndpointState? Random(LocalityGroup group, IRandomSource random, long now, bool ignoreHealth)
    {
        int index = 0;
        for (int attempt = 0; attempt < RandomAttempts; attempt++)
        {
            index = WeightedIndex(group, random);
            EndpointState endpoint = group.Endpoints[index];
            if (ignoreHealth || endpoint.IsAvailable(now))
            {
                return endpoint;
            }
        }

        return FirstAvailableFrom(group, index, now);
    }

    /// <summary>
    /// Envoy LEAST_REQUEST. Equal weights: power of <paramref name="choiceCount"/> choices (random
    /// picks with replacement, fewest active requests wins). Unequal weights: Envoy schedules by
    /// effective weight = weight / (active + 1)^bias with bias 1.0 via EDF; we draw with the same
    /// effective weights (weighted random), which gives the same expected share without EDF state.
    /// </summary>
    private static EndpointState? LeastRequest(LocalityGroup group, int choiceCount, IRandomSource random, long now,
        bool ignoreHealth)
    {
        EndpointState[] endpoints = group.Endpoints;
        if (!group.EqualWeights)
        {
            return EffectiveWeightRandom(endpoints, random, now, ignoreHealth);
        }

        EndpointState? best = null;
        int choices = Math.Max(choiceCount, 1);
        for (int c = 0; c < choices; c++)
        {
            EndpointState candidate = endpoints[random.Next(endpoints.Length)];
            if (!ignoreHealth && !candidate.IsAvailable(now))
            {
                continue;
            }

            if (best is null || candidate.ActiveRequests < best.ActiveRequests)
            {
                best = candidate;
            }
        }

        return best ?? FirstAvailableFrom(group, random.Next(endpoints.Length), now);
    }

    private static EndpointState? EffectiveWeightRandom(EndpointState[] endpoints, IRandomSource random, long now,
        bool ignoreHealth)
    {
        double total = 0;
        foreach (EndpointState endpoint in endpoints)
        {
            if (ignoreHealth || endpoint.IsAvailable(now))
            {
                total += EffectiveWeight(endpoint);
            }
        }

        if (total <= 0)
        {
            return null;
        }

        // Counters move concurrently, so the second pass may not reach the draw; keep the last candidate.
        double draw = random.NextDouble() * total;
        EndpointState? last = null;
        foreach (EndpointState endpoint in endpoints)
        {
            if (!ignoreHealth && !endpoint.IsAvailable(now))
            {
                continue;
            }

            last = endpoint;
            draw -= EffectiveWeight(endpoint);
            if (draw < 0)
            {
                return endpoint;
            }
        }

        return last;
    }

    private static double EffectiveWeight(EndpointState endpoint) =>
        endpoint.Weight / (double)(Math.Max(endpoint.ActiveRequests, 0) + 1);

    private static int WeightedIndex(LocalityGroup group, IRandomSource random)
    {
        if (group.EqualWeights)
        {
            return random.Next(group.Endpoints.Length);
        }

        long draw = group.TotalWeight <= int.MaxValue
            ? random.Next((int)group.TotalWeight)
            : (long)(random.NextDouble() * group.TotalWeight);
        int index = Array.BinarySearch(group.CumulativeWeights, draw + 1);
        return index >= 0 ? index : ~index;
    }

    private static EndpointState? FirstAvailableFrom(LocalityGroup group, int start, long now)
    {
        EndpointState[] endpoints = group.Endpoints;
        for (int i = 0; i < endpoints.Length; i++)
        {
            EndpointState endpoint = endpoints[(start + i) % endpoints.Length];
            if (endpoint.IsAvailable(now))
            {
                return endpoint;
            }
        }

        return null;
    }
}
