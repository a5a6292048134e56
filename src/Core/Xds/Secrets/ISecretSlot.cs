namespace Sidecar.Core.Xds.Secrets;

/// <summary>
/// One named secret as the TLS layer reads it: <see cref="Current"/> is a volatile read, done once per handshake; a new
/// version is a new <see cref="SdsSecretValue"/> instance, so a reader can tell a rotation by reference.
/// </summary>
public interface ISecretSlot
{
    /// <summary>Null until the secret is known (handshakes needing it then fail as having no certificate).</summary>
    SdsSecretValue? Current { get; }
}

/// <summary>A secret received over ADS (<see cref="SdsSecretRegistry"/> keeps one per name, for the process's life).</summary>
public sealed class SdsSecretSlot(string name) : ISecretSlot
{
    private volatile Published? _published;

    public string Name => name;

    public SdsSecretValue? Current => _published?.Value;

    public string Version => _published?.Version ?? "";

    public DateTimeOffset LastUpdated => _published?.At ?? default;

    internal void Set(SdsSecretValue? value, string version, DateTimeOffset at)
    {
        Published? current = _published;
        if (current is not null && ReferenceEquals(current.Value, value)) return;
        _published = value is null ? null : new Published(value, version, at);
    }

    private sealed record Published(SdsSecretValue Value, string Version, DateTimeOffset At);
}
