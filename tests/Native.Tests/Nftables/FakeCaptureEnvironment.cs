using System.Net;
using Sidecar.Native.Nftables;

namespace Sidecar.Native.Tests.Nftables;

/// <summary>A pod as the parser sees it: given variables and resolvers; IPv6 exactly when dual-stack is asked for.</summary>
internal sealed class FakeCaptureEnvironment(Dictionary<string, string>? variables = null, params string[] nameservers) : ICaptureEnvironment
{
    public string? GetVariable(string name) => variables is not null && variables.TryGetValue(name, out string? v) ? v : null;

    public IReadOnlyList<IPAddress> ResolvConfNameservers() => nameservers.Select(IPAddress.Parse).ToList();

    public bool WantsIpv6(bool dualStack) => dualStack;
}
