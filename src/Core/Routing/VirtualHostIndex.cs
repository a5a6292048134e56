using System.Buffers;
using System.Collections.Frozen;

namespace Sidecar.Core.Routing;

/// <summary>
/// Envoy's virtual-host selection (RouteMatcher::findVirtualHost) over a lower-cased host:
/// exact domain, then the longest suffix wildcard ("*.foo.com", "*-bar.foo.com"), then the longest
/// prefix wildcard ("foo.*"), then "*". A wildcard must cover at least one character, so
/// "*.foo.com" does not match ".foo.com". Each step is a frozen-dictionary probe per distinct
/// wildcard length, through a span alternate lookup so no key string is built per request.
/// </summary>
internal sealed class VirtualHostIndex<T>
    where T : class
{
    private const int StackChars = 256;

    private readonly FrozenDictionary<string, T>.AlternateLookup<ReadOnlySpan<char>> _exact;
    /// <summary>Suffix wildcards grouped by suffix length, longest first (the "*" is dropped).</summary>
    private readonly Bucket[] _suffixes;
    /// <summary>Prefix wildcards grouped by prefix length, longest first (the "*" is dropped).</summary>
    private readonly Bucket[] _prefixes;
    private readonly T? _default;
    private readonly bool _stripPort;

    private readonly struct Bucket(int length, FrozenDictionary<string, T> map)
    {
        public readonly int Length = length;
        public readonly FrozenDictionary<string, T>.AlternateLookup<ReadOnlySpan<char>> Lookup =
            map.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <param name="domains">(lower-cased domain, value) pairs; duplicates are a config error as in Envoy.</param>
    public VirtualHostIndex(IEnumerable<KeyValuePair<string, T>> domains)
    {
        var exact = new Dictionary<string, T>(StringComparer.Ordinal);
        var suffixes = new SortedDictionary<int, Dictionary<string, T>>();
        var prefixes = new SortedDictionary<int, Dictionary<string, T>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        bool anyPort = false;
        foreach ((string rawDomain, T value) in domains)
        {
            string domain = rawDomain.ToLowerInvariant();
            if (!seen.Add(domain))
            {
                throw new ArgumentException($"Only unique values for domains are permitted. Duplicate entry of domain {domain}");
            }

            anyPort |= HostPort.PortStart(domain) >= 0;
            if (domain == "*")
            {
                _default = value;
            }
            else if (domain.StartsWith('*'))
            {
                Add(suffixes, domain[1..], value);
            }
            else if (domain.EndsWith('*'))
            {
                Add(prefixes, domain[..^1], value);
            }
            else
            {
                exact.Add(domain, value);
            }
        }

        // Envoy matches Host verbatim (port included); Istio strips the port unless it configured
        // "host:port" domains. We pick per table: strip only when no domain mentions a port.
        _stripPort = !anyPort;
        _exact = exact.ToFrozenDictionary(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        _suffixes = ToBuckets(suffixes);
        _prefixes = ToBuckets(prefixes);
    }

    public T? Find(ReadOnlySpan<byte> authority)
    {
        if (_stripPort)
        {
            int port = HostPort.PortStart(authority);
            if (port >= 0)
            {
                authority = authority[..port];
            }
        }

        char[]? rented = null;
        Span<char> buffer = authority.Length <= StackChars
            ? stackalloc char[StackChars]
            : (rented = ArrayPool<char>.Shared.Rent(authority.Length));
        try
        {
            Span<char> host = buffer[..AsciiSpan.ToLowerChars(authority, buffer)];
            return Find(host);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private T? Find(ReadOnlySpan<char> host)
    {
        if (_exact.TryGetValue(host, out T? value))
        {
            return value;
        }

        foreach (Bucket bucket in _suffixes)
        {
            // ">=" because "*.foo.com" must not match ".foo.com" itself.
            if (bucket.Length < host.Length && bucket.Lookup.TryGetValue(host[^bucket.Length..], out value))
            {
                return value;
            }
        }

        foreach (Bucket bucket in _prefixes)
        {
            if (bucket.Length < host.Length && bucket.Lookup.TryGetValue(host[..bucket.Length], out value))
            {
                return value;
            }
        }

        return _default;
    }

    private static void Add(SortedDictionary<int, Dictionary<string, T>> groups, string key, T value)
    {
        if (!groups.TryGetValue(key.Length, out Dictionary<string, T>? group))
        {
            group = new Dictionary<string, T>(StringComparer.Ordinal);
            groups.Add(key.Length, group);
        }

        group.Add(key, value);
    }

    private static Bucket[] ToBuckets(SortedDictionary<int, Dictionary<string, T>> groups)
    {
        var buckets = new Bucket[groups.Count];
        int i = buckets.Length;
        foreach ((int length, Dictionary<string, T> group) in groups)
        {
            // SortedDictionary is ascending; fill from the end so the longest wildcard is tried first.
            buckets[--i] = new Bucket(length, group.ToFrozenDictionary(StringComparer.Ordinal));
        }

        return buckets;
    }
}
