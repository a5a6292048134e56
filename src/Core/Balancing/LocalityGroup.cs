namespace Sidecar.Core.Balancing;

/// <summary>
/// The endpoints of one locality at one priority, with everything the balancers need precomputed
/// at build time (cumulative weights, the round-robin schedule) so a pick only reads arrays. The
/// only mutable field is the round-robin cursor, advanced with Interlocked.
/// </summary>
internal sealed class LocalityGroup
{
    /// <summary>Bounds the precomputed schedule; larger weight sums are scaled down proportionally.</summary>
    private const int MaxScheduleLength = 16 * 1024;

    private int _cursor;

    public LocalityGroup(EndpointState[] endpoints, int localityWeight, int cursorStart)
    {
        Endpoints = endpoints;
        LocalityWeight = localityWeight;
        CumulativeWeights = new long[endpoints.Length];
        long total = 0;
        bool equal = true;
        for (int i = 0; i < endpoints.Length; i++)
        {
            total += endpoints[i].Weight;
            CumulativeWeights[i] = total;
            equal &= endpoints[i].Weight == endpoints[0].Weight;
        }

        TotalWeight = total;
        EqualWeights = equal;
        Schedule = BuildSmoothSchedule(endpoints, equal);
        _cursor = cursorStart;
    }

    public EndpointState[] Endpoints { get; }
    /// <summary>Envoy locality load_balancing_weight; 0 means the locality gets no traffic.</summary>
    public int LocalityWeight { get; }
    /// <summary>Running sums of endpoint weights, for weighted random by binary search.</summary>
    public long[] CumulativeWeights { get; }
    public long TotalWeight { get; }
    public bool EqualWeights { get; }
    /// <summary>Endpoint indexes in smooth weighted round-robin order; one full cycle honours the weights exactly.</summary>
    public int[] Schedule { get; }

    /// <summary>Next round-robin slot; unsigned wrap keeps it valid past int.MaxValue requests.</summary>
    public uint NextCursor() => (uint)Interlocked.Increment(ref _cursor);

    public bool HasAvailable(long now)
    {
        foreach (EndpointState endpoint in Endpoints)
        {
            if (endpoint.IsAvailable(now))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// nginx's smooth weighted round robin, run once here: each step adds every weight to its
    /// current value, takes the largest and subtracts the total. It interleaves (a:5,b:1,c:1 gives
    /// a a b a c a a) instead of bursting, and replaying it with an atomic cursor needs no lock —
    /// unlike Envoy's per-worker EDF scheduler, which needs worker-local mutable state.
    /// </summary>
    private static int[] BuildSmoothSchedule(EndpointState[] endpoints, bool equalWeights)
    {
        int n = endpoints.Length;
        if (equalWeights || n <= 1)
        {
            var identity = new int[n];
            for (int i = 0; i < n; i++)
            {
                identity[i] = i;
            }

            return identity;
        }

        var weights = new long[n];
        long gcd = 0;
        for (int i = 0; i < n; i++)
        {
            weights[i] = endpoints[i].Weight;
            gcd = Gcd(gcd, weights[i]);
        }

        long total = 0;
        for (int i = 0; i < n; i++)
        {
            weights[i] /= gcd;
            total += weights[i];
        }

        if (total > MaxScheduleLength)
        {
            long scaledTotal = 0;
            for (int i = 0; i < n; i++)
            {
                weights[i] = Math.Max(1, weights[i] * MaxScheduleLength / total);
                scaledTotal += weights[i];
            }

            total = scaledTotal;
        }

        var schedule = new int[total];
        var current = new long[n];
        for (int step = 0; step < schedule.Length; step++)
        {
            int best = 0;
            for (int i = 0; i < n; i++)
            {
                current[i] += weights[i];
                if (current[i] > current[best])
                {
                    best = i;
                }
            }

            current[best] -= total;
            schedule[step] = best;
        }

        return schedule;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
