namespace Sidecar.Native.Nftables;

/// <summary>
/// One chain of a table: a base chain (attached to a netfilter hook with a type and priority) or
/// a regular chain (reached only by jump). Priorities are numbers because nft 1.0.6 rejects the
/// symbolic <c>dstnat</c> on the output hook.
/// </summary>
public sealed record NftChainSpec(string Name, string? Type = null, string? Hook = null, int Priority = 0)
{
    public bool IsBaseChain => Type is not null;

    public static NftChainSpec Regular(string name) => new(name);

    public static NftChainSpec Base(string name, string type, string hook, int priority) => new(name, type, hook, priority);
}
