using System.Runtime.InteropServices;

namespace Sidecar.Native.Seccomp;

/// <summary>
/// libseccomp 2.5 (Debian <c>libseccomp2</c>, <c>libseccomp.so.2</c>) and the two prctl options the
/// filter needs. Why libseccomp and not a hand-built BPF program: it resolves syscall names per
/// architecture (the same names the container runtimes' JSON profiles use), compiles argument
/// comparisons correctly, and implements SECCOMP_FILTER_FLAG_TSYNC with its error reporting. A
/// hand-rolled BPF program would have to re-derive all three per architecture, which is where
/// filters go wrong. Return codes are negative errno values (libseccomp's documented contract).
/// </summary>
internal static partial class SeccompInterop
{
    private const string Lib = "libseccomp.so.2";

    /// <summary>enum scmp_filter_attr, seccomp.h: synchronise every thread of the process to the filter.</summary>
    public const int AttrThreadSync = 4;

    /// <summary>__NR_SCMP_ERROR: the name is unknown to this libseccomp for the native architecture.</summary>
    public const int UnknownSyscall = -1;

    /// <summary>PR_SET_NO_NEW_PRIVS, include/uapi/linux/prctl.h.</summary>
    public const int PrSetNoNewPrivs = 38;

    /// <summary>PR_GET_NO_NEW_PRIVS.</summary>
    public const int PrGetNoNewPrivs = 39;

    /// <summary>PR_GET_SECCOMP: 0 off, 1 strict, 2 filter.</summary>
    public const int PrGetSeccomp = 21;

    [StructLayout(LayoutKind.Sequential)]
    public struct ArgComparison
    {
        public uint Arg;
        public int Op;
        public ulong DatumA;
        public ulong DatumB;
    }

    [LibraryImport(Lib)]
    public static partial nint seccomp_init(uint defaultAction);

    [LibraryImport(Lib)]
    public static partial int seccomp_attr_set(nint ctx, int attr, uint value);

    // Not the variadic seccomp_rule_add: varargs cannot be marshalled portably; _array is the same rule.
    [LibraryImport(Lib)]
    public static unsafe partial int seccomp_rule_add_array(nint ctx, uint action, int syscall, uint argCount, ArgComparison* args);

    [LibraryImport(Lib)]
    public static partial int seccomp_load(nint ctx);

    [LibraryImport(Lib)]
    public static partial void seccomp_release(nint ctx);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int seccomp_syscall_resolve_name(string name);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);
}
