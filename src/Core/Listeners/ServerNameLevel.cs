namespace Sidecar.Core.Listeners;

/// <summary>
/// The server_names level of the match tree. Envoy order: an exact name first, then wildcard names
/// "*.suffix" from the longest suffix to the shortest ("www.example.com" tries "*.example.com" before
/// "*.com"), then the chains without server_names. A wildcard never matches the bare suffix:
/// "*.example.com" does not match "example.com".
/// </summary>
internal sealed class ServerNameLevel<TNext>
    where TNext : class
{
    // DNS names compare case-insensitively (RFC 4343); the span lookup keeps Select allocation-free.
    private readonly Dictionary<string, TNext> _exact = new(StringComparer.OrdinalIgnoreCase);

    // Keyed by the suffix including its leading dot: "*.example.com" is stored as ".example.com".
    private readonly Dictionary<string, TNext> _wildcard = new(StringComparer.OrdinalIgnoreCase);

    public TNext? Any { get; private set; }

    public TNext? Find(string? serverName)
    {
        if (string.IsNullOrEmpty(serverName))
        {
            return Any;
        }

        if (_exact.TryGetValue(serverName, out TNext? next))
        {
            return next;
        }

        if (_wildcard.Count > 0)
        {
            Dictionary<string, TNext>.AlternateLookup<ReadOnlySpan<char>> suffixes =
                _wildcard.GetAlternateLookup<ReadOnlySpan<char>>();
            ReadOnlySpan<char> name = serverName;

            // Start after the first label: "*." needs at least one character before the suffix.
            for (int dot = name.IndexOf('.'); dot > 0; dot = IndexOf(name, '.', dot + 1))
            {
                if (suffixes.TryGetValue(name[dot..], out next))
                {
                    return next;
                }
            }
        }

        return Any;
    }

    /// <summary>Adds a configured name (null for "no server_names"); rejects partial wildcards as Envoy does.</summary>
    public TNext GetOrAdd(string? serverName, Func<TNext> create)
    {
        if (serverName is null)
        {
            return Any ??= create();
        }

        Dictionary<string, TNext> table = _exact;
        string key = serverName;
        if (serverName.StartsWith("*.", StringComparison.Ordinal) && serverName.Length > 2)
        {
            table = _wildcard;
            key = serverName[1..];
        }

        if (key.Contains('*', StringComparison.Ordinal) || key.Length == 0)
        {
            throw new ArgumentException($"server name '{serverName}': only a leading \"*.\" wildcard is supported.", nameof(serverName));
        }

        if (!table.TryGetValue(key, out TNext? next))
        {
            next = create();
            table.Add(key, next);
        }

        return next;
    }

    private static int IndexOf(ReadOnlySpan<char> name, char value, int start)
    {
        int found = name[start..].IndexOf(value);
        return found < 0 ? -1 : start + found;
    }
}
