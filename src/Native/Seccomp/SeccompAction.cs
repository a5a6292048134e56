namespace Sidecar.Native.Seccomp;

/// <summary>Filter actions as libseccomp encodes them (seccomp.h SCMP_ACT_*).</summary>
public static class SeccompAction
{
    public const uint Allow = 0x7fff0000;
    public const uint KillProcess = 0x80000000;
    public const uint KillThread = 0x00000000;
    public const uint Trap = 0x00030000;
    public const uint Log = 0x7ffc0000;

    /// <summary>EPERM, asm-generic/errno-base.h.</summary>
    public const int EPerm = 1;

    /// <summary>SCMP_ACT_ERRNO(x): the syscall is not run and returns -x.</summary>
    public static uint Errno(int errno) => 0x00050000u | ((uint)errno & 0xffffu);
}

/// <summary>enum scmp_compare, seccomp.h.</summary>
public enum SeccompCompare
{
    NotEqual = 1,
    LessThan = 2,
    LessOrEqual = 3,
    Equal = 4,
    GreaterOrEqual = 5,
    GreaterThan = 6,
    MaskedEqual = 7,
}

/// <summary>One argument condition of a rule: <c>arg[Index] Op Value</c> (MaskedEqual: <c>(arg &amp; Value) == ValueTwo</c>).</summary>
public readonly record struct SeccompArgCondition(uint Index, SeccompCompare Op, ulong Value, ulong ValueTwo = 0);

/// <summary>Why a filter step failed; the errno from libseccomp or the kernel travels beside it.</summary>
public enum SeccompError
{
    None,
    LibraryMissing,
    InitFailed,
    UnknownSyscall,
    RuleRejected,
    ThreadSyncUnavailable,
    NoNewPrivsFailed,
    LoadFailed,
}
