using Sidecar.Native.Tests.Support;

namespace Sidecar.Native.Tests.Nftables;

/// <summary>The theory form of <see cref="RootFactAttribute"/>: skipped without root on a developer machine, run (and failed) when CI=true.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute()
    {
        if (!Privileges.IsRoot && !Privileges.IsCi)
        {
            Skip = "needs root (ip netns, nft); run as root, or set CI=true to make this a failure";
        }
    }
}
