using System.Net;

namespace Sidecar.Core.Balancing;

/// <summary>Host name resolution for STRICT_DNS / LOGICAL_DNS clusters; injectable for tests.</summary>
public interface IDnsResolver
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

/// <summary>The operating system resolver via <see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>.</summary>
public sealed class SystemDnsResolver : IDnsResolver
{
    public static readonly SystemDnsResolver Instance = new();

    private SystemDnsResolver()
    {
    }

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        Dns.GetHostAddressesAsync(host, cancellationToken);
}
