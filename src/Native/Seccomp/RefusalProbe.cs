using System.Runtime.InteropServices;

namespace Sidecar.Native.Seccomp;

/// <summary>
/// Attempts syscalls a confined proxy must be refused, and reports the errno each one got. Used by
/// <c>sidecar confinement-check</c> after it confined itself the way the proxy does. Each attempt is
/// harmless if it were allowed: exec replaces the process with <c>/bin/false</c> (so a wrongly allowed
/// exec ends the check with status 1 and without its report), unshare(0) and setns(-1, 0) change nothing.
/// </summary>
public static unsafe partial class RefusalProbe
{
    /// <summary>execve("/bin/false", ["false"], []): returns only when refused; the errno.</summary>
    public static int TryExec()
    {
        byte* path = stackalloc byte[] { (byte)'/', (byte)'b', (byte)'i', (byte)'n', (byte)'/', (byte)'f', (byte)'a', (byte)'l', (byte)'s', (byte)'e', 0 };
        byte** argv = stackalloc byte*[2];
        argv[0] = path + 5;
        argv[1] = null;
        byte** envp = stackalloc byte*[1];
        envp[0] = null;
        execve(path, argv, envp);
        return Marshal.GetLastPInvokeError();
    }

    /// <summary>unshare(0): a no-op when allowed (returns 0), EPERM when refused.</summary>
    public static int TryUnshare() => unshare(0) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>setns(-1, 0): EBADF when allowed, EPERM when refused.</summary>
    public static int TrySetns() => setns(-1, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int execve(byte* path, byte** argv, byte** envp);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unshare(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);
}
