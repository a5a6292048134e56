namespace Sidecar.Native.Seccomp;

/// <summary>What <see cref="SelfConfinement.InstallProxyFilter"/> did; <see cref="Error"/> None means loaded.</summary>
public readonly record struct SeccompInstallReport(SeccompError Error, int Errno, string? Syscall, int Rules, int SkippedNames)
{
    public bool Installed => Error == SeccompError.None;

    public string Describe() => Installed
        ? $"seccomp allow-list loaded on all threads ({Rules} rules, default EPERM, no_new_privs)"
        : $"seccomp: {Error}{(Syscall is null ? "" : " at " + Syscall)} (errno {Errno})";
}

/// <summary>
/// Installs the proxy's seccomp allow-list (<see cref="ProxySyscallPolicy"/>) on every thread of the
/// process: no_new_privs, then one filter loaded with TSYNC. Unlisted syscalls fail with EPERM
/// instead of killing the process, so a syscall the list missed shows up as a failed operation in
/// the logs rather than as a dead proxy. Call it once the listeners are bound: binding and the
/// one-off startup work need nothing the list leaves out, but the list is cut to steady state.
/// </summary>
public static class SelfConfinement
{
    public static SeccompInstallReport InstallProxyFilter()
    {
        if (!ProcessSecurityState.TrySetNoNewPrivileges(out int nnpErrno))
        {
            return new SeccompInstallReport(SeccompError.NoNewPrivsFailed, nnpErrno, null, 0, 0);
        }

        SeccompError error = SeccompFilter.TryCreate(SeccompAction.Errno(SeccompAction.EPerm), out SeccompFilter? created);
        if (error != SeccompError.None || created is null)
        {
            return new SeccompInstallReport(error, 0, null, 0, 0);
        }

        using SeccompFilter filter = created;
        if (filter.RequireThreadSync(out int syncErrno) != SeccompError.None)
        {
            return new SeccompInstallReport(SeccompError.ThreadSyncUnavailable, syncErrno, null, 0, 0);
        }

        var builder = new RuleCounter(filter);
        foreach (string name in ProxySyscallPolicy.Allowed)
        {
            builder.Add(name, SeccompAction.Allow, []);
        }

        foreach (ulong option in ProxySyscallPolicy.AllowedPrctlOptions)
        {
            builder.Add("prctl", SeccompAction.Allow, [new SeccompArgCondition(0, SeccompCompare.Equal, option)]);
        }

        foreach (ulong request in ProxySyscallPolicy.AllowedIoctlRequests)
        {
            builder.Add("ioctl", SeccompAction.Allow, [new SeccompArgCondition(1, SeccompCompare.Equal, request)]);
        }

        foreach (ulong domain in ProxySyscallPolicy.AllowedSocketDomains)
        {
            builder.Add("socket", SeccompAction.Allow, [new SeccompArgCondition(0, SeccompCompare.Equal, domain)]);
        }

        builder.Add("socket", SeccompAction.Allow,
        [
            new SeccompArgCondition(0, SeccompCompare.Equal, ProxySyscallPolicy.AfNetlink),
            new SeccompArgCondition(2, SeccompCompare.Equal, ProxySyscallPolicy.NetlinkRoute),
        ]);

        // MaskedEqual: (flags & mask) == 0, i.e. no namespace flag set.
        builder.Add("clone", SeccompAction.Allow, [new SeccompArgCondition(0, SeccompCompare.MaskedEqual, ProxySyscallPolicy.CloneNamespaceFlags, 0)]);
        builder.Add("clone3", SeccompAction.Errno(ProxySyscallPolicy.Clone3Errno), []);

        if (builder.Failure is { } failure)
        {
            return failure;
        }

        return filter.Load(out int loadErrno) == SeccompError.None
            ? new SeccompInstallReport(SeccompError.None, 0, null, builder.Rules, builder.Skipped)
            : new SeccompInstallReport(SeccompError.LoadFailed, loadErrno, null, builder.Rules, builder.Skipped);
    }

    /// <summary>Adds rules, counting them, and keeps the first rejection.</summary>
    private sealed class RuleCounter(SeccompFilter filter)
    {
        public int Rules { get; private set; }

        public int Skipped { get; private set; }

        public SeccompInstallReport? Failure { get; private set; }

        public void Add(string syscall, uint action, ReadOnlySpan<SeccompArgCondition> conditions)
        {
            if (Failure is not null)
            {
                return;
            }

            switch (filter.AddRule(syscall, action, conditions, out int errno))
            {
                case SeccompError.None:
                    Rules++;
                    break;
                case SeccompError.UnknownSyscall:
                    Skipped++;
                    break;
                default:
                    Failure = new SeccompInstallReport(SeccompError.RuleRejected, errno, syscall, Rules, Skipped);
                    break;
            }
        }
    }
}
