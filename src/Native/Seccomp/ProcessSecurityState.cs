namespace Sidecar.Native.Seccomp;

/// <summary>The calling thread's no_new_privs and seccomp mode, straight from prctl(2).</summary>
public static class ProcessSecurityState
{
    /// <summary>Sets no_new_privs: execve can no longer grant privileges (setuid bits, file capabilities).</summary>
    public static bool TrySetNoNewPrivileges(out int errno)
    {
        bool ok = SeccompInterop.prctl(SeccompInterop.PrSetNoNewPrivs, 1, 0, 0, 0) == 0;
        errno = ok ? 0 : System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        return ok;
    }

    public static bool NoNewPrivileges => SeccompInterop.prctl(SeccompInterop.PrGetNoNewPrivs, 0, 0, 0, 0) == 1;

    /// <summary>2 when a seccomp filter is installed on this thread.</summary>
    public static int SeccompMode => SeccompInterop.prctl(SeccompInterop.PrGetSeccomp, 0, 0, 0, 0);
}
