using System.Collections;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Sidecar.Core.Config.Model;

/// <summary>
/// An immutable map from a cluster name to what a config version holds for it. Each version's map is a plain
/// dictionary that nothing writes after it is built; the next version starts from a copy of it
/// (<see cref="ToBuilder"/>: the entries and their cached hash codes are copied, no key is hashed again) and changes
/// only the names that changed. A FrozenDictionary was rebuilt whole per version instead — at 10,000 clusters its
/// key analysis alone took tens of milliseconds per push, three times over (model, cluster states, runtimes), for a
/// push that changed one endpoint set. Lookups stay one ordinal hash probe.
/// </summary>
public sealed class NameDictionary<T> : IReadOnlyDictionary<string, T>
{
    private readonly Dictionary<string, T> _items;

    /// <summary>Takes <paramref name="items"/> over: the caller must not write to it afterwards.</summary>
    public NameDictionary(Dictionary<string, T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        // The copy in ToBuilder keeps hash codes only between dictionaries with the same comparer.
        _items = ReferenceEquals(items.Comparer, StringComparer.Ordinal) ? items : new Dictionary<string, T>(items, StringComparer.Ordinal);
    }

    /// <summary>A map built elsewhere as a frozen dictionary (tests build models that way).</summary>
    public NameDictionary(FrozenDictionary<string, T> items) => _items = new Dictionary<string, T>(items, StringComparer.Ordinal);

    /// <summary>See the FrozenDictionary constructor (the named alternative CA2225 asks for).</summary>
#pragma warning disable CA2225, CA1000
    public static implicit operator NameDictionary<T>(FrozenDictionary<string, T> items) => new(items);
#pragma warning restore CA2225, CA1000

    /// <summary>A writable copy to build the next version from (hash codes copied, not recomputed).</summary>
    public Dictionary<string, T> ToBuilder() => new(_items, StringComparer.Ordinal);

    public T this[string key] => _items[key];

    public int Count => _items.Count;

    public Dictionary<string, T>.KeyCollection Keys => _items.Keys;

    public Dictionary<string, T>.ValueCollection Values => _items.Values;

    IEnumerable<string> IReadOnlyDictionary<string, T>.Keys => _items.Keys;

    IEnumerable<T> IReadOnlyDictionary<string, T>.Values => _items.Values;

    public bool ContainsKey(string key) => _items.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out T value) => _items.TryGetValue(key, out value);

    public T? GetValueOrDefault(string key) => _items.GetValueOrDefault(key);

    public Dictionary<string, T>.Enumerator GetEnumerator() => _items.GetEnumerator();

    IEnumerator<KeyValuePair<string, T>> IEnumerable<KeyValuePair<string, T>>.GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();
}
