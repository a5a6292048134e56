namespace Sidecar.Native.Tests.Support;

/// <summary>
/// A fact that needs root (netns, nft, setns, SO_MARK). Not root: skipped with a message on a
/// developer machine, but run (and failed by <see cref="Privileges.RequireRoot"/>) when CI=true so
/// CI can never silently skip the kernel tests.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Privileges.IsRoot && !Privileges.IsCi)
        {
            Skip = "needs root (ip netns, nft, setns, SO_MARK); run as root, or set CI=true to make this a failure";
        }
    }
}
