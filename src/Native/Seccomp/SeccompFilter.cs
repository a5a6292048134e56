using System.Runtime.InteropServices;

namespace Sidecar.Native.Seccomp;

/// <summary>
/// A seccomp filter under construction (a libseccomp context). Build it with a default action and
/// rules, then <see cref="Load"/> it; the kernel keeps the loaded program, so the context is released
/// on dispose either way. Failures are returned (with the errno) rather than thrown: a caller decides
/// whether a missing library or an old kernel is fatal.
/// </summary>
public sealed class SeccompFilter : IDisposable
{
    private nint _ctx;

    private SeccompFilter(nint ctx) => _ctx = ctx;

    /// <summary>Creates a context whose unmatched syscalls get <paramref name="defaultAction"/>.</summary>
    public static SeccompError TryCreate(uint defaultAction, out SeccompFilter? filter)
    {
        filter = null;
        nint ctx;
        try
        {
            ctx = SeccompInterop.seccomp_init(defaultAction);
        }
        catch (DllNotFoundException)
        {
            return SeccompError.LibraryMissing;
        }
        catch (EntryPointNotFoundException)
        {
            return SeccompError.LibraryMissing;
        }

        if (ctx == 0)
        {
            return SeccompError.InitFailed;
        }

        filter = new SeccompFilter(ctx);
        return SeccompError.None;
    }

    /// <summary>The native syscall number, or null when this libseccomp does not know the name.</summary>
    public static int? ResolveSyscall(string name)
    {
        int nr = SeccompInterop.seccomp_syscall_resolve_name(name);
        return nr == SeccompInterop.UnknownSyscall ? null : nr;
    }

    /// <summary>
    /// Asks for SECCOMP_FILTER_FLAG_TSYNC: the load applies the filter to every thread of the process,
    /// not only the caller. Without it the .NET runtime's existing threads (thread pool, socket engine,
    /// finalizer) would run unfiltered.
    /// </summary>
    public SeccompError RequireThreadSync(out int errno)
    {
        errno = -SeccompInterop.seccomp_attr_set(Handle, SeccompInterop.AttrThreadSync, 1);
        return errno == 0 ? SeccompError.None : SeccompError.ThreadSyncUnavailable;
    }

    /// <summary>Adds <c>syscall → action</c> when every condition holds (no conditions: always).</summary>
    public unsafe SeccompError AddRule(string syscall, uint action, ReadOnlySpan<SeccompArgCondition> conditions, out int errno)
    {
        errno = 0;
        if (ResolveSyscall(syscall) is not { } nr)
        {
            return SeccompError.UnknownSyscall;
        }

        // scmp_arg_cmp is 24 bytes; six is the syscall argument maximum, so the stack is enough.
        Span<SeccompInterop.ArgComparison> native = stackalloc SeccompInterop.ArgComparison[6];
        int count = Math.Min(conditions.Length, native.Length);
        for (int i = 0; i < count; i++)
        {
            SeccompArgCondition c = conditions[i];
            native[i] = new SeccompInterop.ArgComparison { Arg = c.Index, Op = (int)c.Op, DatumA = c.Value, DatumB = c.ValueTwo };
        }

        int rc;
        fixed (SeccompInterop.ArgComparison* args = native)
        {
            rc = SeccompInterop.seccomp_rule_add_array(Handle, action, nr, (uint)count, count == 0 ? null : args);
        }

        errno = -rc;
        return rc == 0 ? SeccompError.None : SeccompError.RuleRejected;
    }

    /// <summary>Adds an unconditional rule.</summary>
    public SeccompError AddRule(string syscall, uint action, out int errno) => AddRule(syscall, action, [], out errno);

    /// <summary>
    /// Installs the filter. libseccomp sets no_new_privs first (its default), which is what lets an
    /// unprivileged process load a filter at all (kernel/seccomp.c, seccomp_prepare_filter).
    /// </summary>
    public SeccompError Load(out int errno)
    {
        errno = -SeccompInterop.seccomp_load(Handle);
        return errno == 0 ? SeccompError.None : SeccompError.LoadFailed;
    }

    private nint Handle => _ctx != 0 ? _ctx : throw new ObjectDisposedException(nameof(SeccompFilter));

    public void Dispose()
    {
        if (_ctx != 0)
        {
            SeccompInterop.seccomp_release(_ctx);
            _ctx = 0;
        }
    }
}
