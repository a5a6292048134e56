using System.Runtime.InteropServices;
using Sidecar.Native.Capabilities;
using Sidecar.Native.Seccomp;

namespace Sidecar.Native.Tests.Confinement;

/// <summary>Unprivileged checks of the allow-list, the /proc status parser and the profile loader.</summary>
public sealed class ConfinementPolicyTests
{
    [Fact]
    public void Allow_list_contains_nothing_that_must_be_refused()
    {
        var allowed = new HashSet<string>(ProxySyscallPolicy.Allowed, StringComparer.Ordinal) { "prctl", "ioctl", "socket", "clone", "clone3" };
        foreach (string name in ProxySyscallPolicy.MustRefuse)
        {
            Assert.DoesNotContain(name, allowed);
        }

        Assert.Equal(ProxySyscallPolicy.Allowed.Length, new HashSet<string>(ProxySyscallPolicy.Allowed).Count);
    }

    [Fact]
    public void Every_allowed_name_is_a_syscall_libseccomp_knows_on_x86_64()
    {
        Assert.Equal(Architecture.X64, RuntimeInformation.ProcessArchitecture); // the list is written in x86-64 names
        foreach (string name in ProxySyscallPolicy.Allowed)
        {
            Assert.True(SeccompFilter.ResolveSyscall(name) is >= 0, $"{name} does not resolve (typo?)");
        }

        Assert.Equal(59, SeccompFilter.ResolveSyscall("execve")); // arch/x86/entry/syscalls/syscall_64.tbl
        Assert.Null(SeccompFilter.ResolveSyscall("no_such_syscall"));
    }

    [Fact]
    public void Proc_status_security_lines_parse()
    {
        const string status = "Name:\tsidecar\nCapInh:\t0000000000000000\nCapPrm:\t0000000000003000\nCapEff:\t0000000000001000\n"
            + "CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n";
        ThreadSecurityStatus s = ThreadSecurityStatus.Parse(status);
        Assert.Equal(CapabilitySet.Empty.With(Capability.NetAdmin), s.Effective);
        Assert.Equal("cap_net_admin,cap_net_raw", s.Permitted.ToString());
        Assert.Equal(0x1ffffffffffUL, s.Bounding.Bits);
        Assert.True(s.Inheritable.IsEmpty && s.Ambient.IsEmpty);
        Assert.True(s.NoNewPrivileges);
        Assert.Equal(2, s.SeccompMode);
        Assert.False(s.Permitted.IsSubsetOf(s.Effective));
        Assert.True(s.Effective.IsSubsetOf(s.Permitted));
    }

    [Fact]
    public void Runtime_profile_subset_follows_arches_caps_and_errno_rules()
    {
        const string profile = """
            {
              "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
              "syscalls": [
                { "names": ["read", "write"], "action": "SCMP_ACT_ALLOW" },
                { "names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["amd64"] } },
                { "names": ["cacheflush"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["arm64"] } },
                { "names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN"] } },
                { "names": ["bpf"], "action": "SCMP_ACT_ERRNO", "excludes": { "caps": ["CAP_SYS_ADMIN"] }, "errnoRet": 1 },
                { "names": ["future_call"], "action": "SCMP_ACT_ALLOW", "includes": { "minKernel": "99.0" } },
                { "names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [ { "index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ" } ] }
              ]
            }
            """;
        var p = RuntimeSeccompProfile.Parse(profile, "amd64", new Version(6, 1));
        Assert.Equal(SeccompAction.Errno(38), p.DefaultAction);
        Assert.Equal(["read", "write", "arch_prctl", "bpf", "personality"], p.Rules.Select(r => r.Name));
        Assert.Equal(SeccompAction.Errno(1), p.Rules.Single(r => r.Name == "bpf").Action);
        Assert.Equal(new SeccompArgCondition(0, SeccompCompare.Equal, 8), p.Rules.Single(r => r.Name == "personality").Args.Single());
        Assert.Equal(3, p.ConditionalEntriesSkipped);
        Assert.Throws<NotSupportedException>(() => RuntimeSeccompProfile.Parse(
            """{ "defaultAction": "SCMP_ACT_NOTIFY", "syscalls": [] }""", "amd64", new Version(6, 1)));
    }
}
