namespace Sidecar.Core.Listeners;

/// <summary>
/// One level of Envoy's filter chain match tree: the chains that name a value for this criterion,
/// keyed by that value, and the chains that leave it unset (the fallback at this level only).
/// </summary>
internal sealed class MatchLevel<TKey, TNext>
    where TKey : notnull
    where TNext : class
{
    public MatchLevel(IEqualityComparer<TKey>? comparer = null) => Specific = new Dictionary<TKey, TNext>(comparer);

    public Dictionary<TKey, TNext> Specific { get; }

    public TNext? Any { get; set; }

    /// <summary>The subtree for <paramref name="key"/>, or the fallback when no chain names it.</summary>
    public TNext? Find(TKey key) => Specific.TryGetValue(key, out TNext? next) ? next : Any;

    /// <summary>The subtree for chains that leave this criterion unset.</summary>
    public TNext GetOrAddAny(Func<TNext> create) => Any ??= create();

    /// <summary>The subtree for chains that name <paramref name="key"/>.</summary>
    public TNext GetOrAdd(TKey key, Func<TNext> create)
    {
        if (!Specific.TryGetValue(key, out TNext? next))
        {
            next = create();
            Specific.Add(key, next);
        }

        return next;
    }
}
