namespace Sidecar.Native.Tests.Support;

public static class Privileges
{
    // Effective uid 0 (geteuid() == 0 on Unix).
    public static bool IsRoot => Environment.IsPrivilegedProcess;

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static void RequireRoot()
        => Assert.True(IsRoot, "this test needs root (CI=true makes a missing privilege a failure instead of a skip)");
}
