namespace Sidecar.Native.Seccomp;

/// <summary>
/// The self-confinement allow-list: the syscalls a running proxy makes, measured with
/// <c>strace -f</c> over HTTP and tcp_proxy load (wrk), admin requests, STRICT_DNS refreshes (a name
/// from /etc/hosts and one sent to the resolver), and drain/exit, in both worker models
/// (docs/CONFINEMENT.md has the run and the counts); re-measured with ADS over TLS to a fake istiod and Istio CA
/// rotations (XdsConfinementTests; docs/XDS.md "Confinement"). A few syscalls were added that the run did
/// not show but that the runtime or glibc reach on rarer paths (each is marked "not seen").
/// Everything else returns EPERM. x86-64 names; names a libseccomp does not know for the native
/// architecture are skipped, so the same list loads on arm64 (where e.g. <c>open</c> is absent).
/// </summary>
public static class ProxySyscallPolicy
{
    /// <summary>Allowed with any arguments.</summary>
    public static readonly string[] Allowed =
    [
        // memory (GC heap, thread stacks, guard pages)
        "brk", "mmap", "munmap", "mprotect", "madvise",
        "mremap", // not seen: realloc of large blocks in glibc
        "membarrier", "get_mempolicy", "sysinfo", "sched_getaffinity",

        // threads and synchronisation (clone itself: see CloneRule)
        "futex", "set_robust_list", "rseq", "set_tid_address", "gettid", "getpid", "sched_yield", "exit", "exit_group",
        "arch_prctl", // thread-local storage base on x86-64 (new threads)
        "nanosleep", "clock_nanosleep", "clock_gettime", "gettimeofday", // not seen (vDSO): fallbacks when the vDSO is unavailable
        "restart_syscall", // not seen: the kernel resumes an interrupted sleep with it

        // signals: POSIX signal handling thread, GC thread suspension (tgkill) and fail-fast (abort)
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "tgkill",

        // event loop
        "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll", "pipe2", "eventfd2",

        // sockets (creation: see SocketRules)
        "accept4", "accept", "bind", "listen", "connect", "shutdown", "getsockname", "getpeername",
        "setsockopt", "getsockopt", "recvfrom", "sendto", "recvmsg", "sendmsg", "sendmmsg", "recvmmsg",
        "readv", "writev", // not seen: vectored socket I/O

        // files: config, /proc and /sys reads (cgroup limits, this file's own checks), logs on stdout
        "read", "write", "pread64", "openat", "close", "lseek", "fstat", "newfstatat", "statx", "statfs", "fstatfs",
        "getdents64", "readlink", "readlinkat", "access", "faccessat", "faccessat2", "fcntl", "flock", "getcwd",
        // TLS to the control plane (Istio CA client, xDS over TLS), measured 2026-11-27 with the filter on (strace -f -Z):
        // each X509Chain build and OpenSSL store lookup stat()s/lstat()s the .NET x509stores and /etc/ssl/certs (glibc's
        // stat/lstat, not newfstatat), and FileStream's sequential hint (posix_fadvise) runs when the CA client re-reads
        // root-cert.pem and the token file at every fetch. Without them those calls failed with EPERM (tolerated, but a
        // chain build must not depend on that).
        "stat", "lstat", "fadvise64",

        // process facts
        "uname", "getrusage", "prlimit64", "getrandom", "getuid", "geteuid", "getgid", "getegid", "getppid",
    ];

    /// <summary>prctl options allowed: PR_GET_DUMPABLE 3, PR_SET_NAME 15 (thread names), PR_GET_NAME 16, PR_GET_SECCOMP 21, PR_GET_NO_NEW_PRIVS 39.</summary>
    public static readonly ulong[] AllowedPrctlOptions = [3, 15, 16, 21, 39];

    /// <summary>
    /// ioctl requests allowed (asm-generic/ioctls.h): TCGETS 0x5401 (Console asks whether stdout is a
    /// terminal), TIOCGWINSZ 0x5413, FIONREAD 0x541B (bytes available on a socket), FIONBIO 0x5421,
    /// FIONCLEX 0x5450, FIOCLEX 0x5451. Not TIOCSTI (typing into a terminal) nor any device ioctl.
    /// </summary>
    public static readonly ulong[] AllowedIoctlRequests = [0x5401, 0x5413, 0x541B, 0x5421, 0x5450, 0x5451];

    /// <summary>
    /// Socket domains allowed (arg 0): AF_UNIX 1 (glibc's nscd probe), AF_INET 2, AF_INET6 10, and
    /// AF_NETLINK 16 only with NETLINK_ROUTE 0 (getaddrinfo's address-configuration query). No
    /// AF_PACKET, no other netlink family (audit, netfilter, …).
    /// </summary>
    public static readonly ulong[] AllowedSocketDomains = [1, 2, 10];

    public const ulong AfNetlink = 16;
    public const ulong NetlinkRoute = 0;

    /// <summary>
    /// clone flags that create namespaces (CLONE_NEWNS 0x20000, NEWCGROUP 0x2000000, NEWUTS 0x4000000,
    /// NEWIPC 0x8000000, NEWUSER 0x10000000, NEWPID 0x20000000, NEWNET 0x40000000): clone is allowed
    /// only when none is set, so threads can be created and namespaces cannot.
    /// </summary>
    public const ulong CloneNamespaceFlags = 0x7E020000;

    /// <summary>
    /// clone3 passes its flags in memory, which a seccomp filter cannot read; it answers ENOSYS so
    /// glibc (2.34+) falls back to clone, whose flags the filter can check (the container runtimes'
    /// default profiles do the same).
    /// </summary>
    public const int Clone3Errno = 38;

    /// <summary>
    /// Must never be allowed (a unit test holds the lists above to it): exec, tracing, mounts,
    /// namespaces, kernel modules, kexec, BPF, keyrings, and the like. They get the default EPERM.
    /// </summary>
    public static readonly string[] MustRefuse =
    [
        "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root",
        "chroot", "unshare", "setns", "kexec_load", "kexec_file_load", "init_module", "finit_module",
        "delete_module", "bpf", "keyctl", "add_key", "request_key", "perf_event_open", "userfaultfd",
        "open_by_handle_at", "reboot", "swapon", "swapoff", "settimeofday", "clock_settime", "iopl", "ioperm",
        "personality", "setuid", "setgid", "capset", "fork", "vfork", "kill",
    ];
}
