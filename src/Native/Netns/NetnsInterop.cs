using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sidecar.Native.Netns;

/// <summary>setns(2) binding. Source-generated (LibraryImport), so it is AOT-clean.</summary>
internal static partial class NetnsInterop
{
    /// <summary>CLONE_NEWNET, include/uapi/linux/sched.h: the fd must refer to a network namespace.</summary>
    private const int CloneNewNet = 0x40000000;

    /// <summary>Moves the calling thread into the namespace behind <paramref name="nsfd"/>.</summary>
    /// <exception cref="Win32Exception">setns failed; NativeErrorCode is the errno (EPERM, EINVAL).</exception>
    public static void Enter(SafeFileHandle nsfd)
    {
        if (setns(nsfd, CloneNewNet) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new Win32Exception(errno, "setns(CLONE_NEWNET) failed: " + Marshal.GetPInvokeErrorMessage(errno));
        }
    }

    // int setns(int fd, int nstype); glibc >= 2.14, <sched.h>.
    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(SafeFileHandle fd, int nstype);
}
