using System.Collections.Concurrent;

namespace Sidecar.Core.Xds.Secrets;

/// <summary>One secret now served, for /config_dump (SecretsConfigDump.dynamic_active_secrets).</summary>
public sealed record ActiveSecret(string Name, string Version, DateTimeOffset LastUpdated, SdsSecretValue Value);

/// <summary>
/// The secrets istiod serves over ADS (gateway <c>credentialName</c>, DestinationRule credentials, …) as certificate
/// slots the TLS bindings read per handshake. The xDS client checks each secret here (decode + load: a garbage PEM or
/// a key that does not match its certificate is NACKed naming the secret, the previous version keeps serving) and
/// applies the accepted set; a slot's reference is stable, so a rotated secret reaches new handshakes on the
/// listeners and clusters already bound, while open connections keep what they negotiated.
/// </summary>
public sealed class SdsSecretRegistry : IXdsSecretSink
{
    private readonly ConcurrentDictionary<string, SdsSecretSlot> _slots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (byte[] Bytes, SdsSecretValue Value)> _decoded = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private volatile IReadOnlyList<ActiveSecret> _active = [];

    public SdsSecretRegistry(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>The slot for a name: the same instance for the process's life, empty until the secret arrives.</summary>
    public SdsSecretSlot Slot(string name) => _slots.GetOrAdd(name, static n => new SdsSecretSlot(n));

    /// <summary>What serves now, sorted by name.</summary>
    public IReadOnlyList<ActiveSecret> Active => _active;

    public string? Check(XdsResource secret)
    {
        lock (_lock)
        {
            return Decode(secret, out _);
        }
    }

    public void Apply(IReadOnlyDictionary<string, XdsResource> secrets)
    {
        lock (_lock)
        {
            DateTimeOffset now = _time.GetUtcNow();
            var active = new List<ActiveSecret>(secrets.Count);
            foreach (XdsResource secret in secrets.Values)
            {
                // Checked before; a file a DataSource names may have gone since: keep the slot as it was then.
                if (Decode(secret, out SdsSecretValue? value) is not null || value is null) continue;
                SdsSecretSlot slot = Slot(secret.Name);
                slot.Set(value, secret.Version, now);
                active.Add(new ActiveSecret(secret.Name, slot.Version, slot.LastUpdated, value));
            }
            foreach (SdsSecretSlot slot in _slots.Values)
            {
                if (!secrets.ContainsKey(slot.Name)) slot.Set(null, "", now);
            }
            foreach (string name in _decoded.Keys.Where(n => !secrets.ContainsKey(n)).ToList()) _decoded.Remove(name);
            active.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            _active = active;
        }
    }

    /// <summary>Decodes, or reuses the value decoded from identical bytes (so an unchanged secret keeps its instance).</summary>
    private string? Decode(XdsResource secret, out SdsSecretValue? value)
    {
        if (_decoded.TryGetValue(secret.Name, out var cached) && cached.Bytes.AsSpan().SequenceEqual(secret.Bytes.Span))
        {
            value = cached.Value;
            return null;
        }
        string? error = SdsSecretDecoder.TryDecode(secret.Bytes.Span, _time.GetUtcNow(), out value);
        if (error is not null || value is null) return error ?? "not decodable";
        _decoded[secret.Name] = (secret.Bytes.ToArray(), value);
        return null;
    }
}
