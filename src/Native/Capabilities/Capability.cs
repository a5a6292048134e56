namespace Sidecar.Native.Capabilities;

/// <summary>Capability numbers from include/uapi/linux/capability.h (the ones this project names).</summary>
public enum Capability
{
    Chown = 0,
    DacOverride = 1,
    DacReadSearch = 2,
    Fowner = 3,
    Fsetid = 4,
    Kill = 5,
    Setgid = 6,
    Setuid = 7,
    Setpcap = 8,
    LinuxImmutable = 9,
    NetBindService = 10,
    NetBroadcast = 11,
    NetAdmin = 12,
    NetRaw = 13,
    IpcLock = 14,
    IpcOwner = 15,
    SysModule = 16,
    SysRawio = 17,
    SysChroot = 18,
    SysPtrace = 19,
    SysPacct = 20,
    SysAdmin = 21,
    SysBoot = 22,
    SysNice = 23,
    SysResource = 24,
    SysTime = 25,
    SysTtyConfig = 26,
    Mknod = 27,
    Lease = 28,
    AuditWrite = 29,
    AuditControl = 30,
    Setfcap = 31,
}

/// <summary>A set of capabilities as the kernel's 64-bit mask (bit n = capability n).</summary>
public readonly record struct CapabilitySet(ulong Bits)
{
    public static CapabilitySet Empty => default;

    public bool IsEmpty => Bits == 0;

    public bool Contains(Capability c) => (Bits & (1UL << (int)c)) != 0;

    public bool Contains(int capabilityNumber) => capabilityNumber is >= 0 and < 64 && (Bits & (1UL << capabilityNumber)) != 0;

    public CapabilitySet With(Capability c) => new(Bits | (1UL << (int)c));

    public CapabilitySet Intersect(CapabilitySet other) => new(Bits & other.Bits);

    /// <summary>True when this set holds nothing outside <paramref name="allowed"/>.</summary>
    public bool IsSubsetOf(CapabilitySet allowed) => (Bits & ~allowed.Bits) == 0;

    /// <summary>"none" or "cap_net_admin,cap_net_raw" (capabilities(7) names; unnamed bits as cap_N).</summary>
    public override string ToString()
    {
        if (Bits == 0)
        {
            return "none";
        }

        var text = new System.Text.StringBuilder();
        for (int n = 0; n < 64; n++)
        {
            if ((Bits & (1UL << n)) == 0)
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(Name(n));
        }

        return text.ToString();
    }

    private static string Name(int n) => n switch
    {
        (int)Capability.NetBindService => "cap_net_bind_service",
        (int)Capability.NetAdmin => "cap_net_admin",
        (int)Capability.NetRaw => "cap_net_raw",
        (int)Capability.SysAdmin => "cap_sys_admin",
        (int)Capability.Setpcap => "cap_setpcap",
        _ => "cap_" + n.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
