using System.Security.Cryptography;

namespace Sidecar.Native.Tests.Support;

/// <summary>
/// A throwaway named network namespace (<c>ip netns add sc-test-XXXX</c>) with lo up. Dispose
/// deletes it; nothing is ever added to the root namespace, whose nft ruleset is never touched.
/// </summary>
public sealed class TestNamespace : IDisposable
{
    private bool _deleted;

    private TestNamespace(string name) => Name = name;

    public string Name { get; }

    public static TestNamespace Create()
    {
        Privileges.RequireRoot();
        var ns = new TestNamespace("sc-test-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
        Shell.Run("ip", "netns", "add", ns.Name);
        try
        {
            Shell.Run("ip", "-n", ns.Name, "link", "set", "lo", "up");
        }
        catch
        {
            ns.Dispose();
            throw;
        }

        return ns;
    }

    /// <summary>Loads an nft ruleset inside the namespace only (<c>ip netns exec NAME nft -f FILE</c>).</summary>
    public void LoadNft(string ruleset)
    {
        string file = Path.Combine(Path.GetTempPath(), Name + ".nft");
        File.WriteAllText(file, ruleset);
        try
        {
            Shell.Run("ip", "netns", "exec", Name, "nft", "-f", file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    public void Dispose()
    {
        if (_deleted)
        {
            return;
        }

        _deleted = true;
        Shell.Run("ip", "netns", "del", Name);
    }
}
