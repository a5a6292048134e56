using System.Buffers.Binary;

namespace Sidecar.Native.Nftables;

/// <summary>
/// The policy routing TPROXY mode needs besides the nftables rules (what istio-iptables' ConfigureRoutes
/// sets up with `ip rule` / `ip route`): packets carrying the TPROXY mark are looked up in their own
/// table, whose only route delivers everything locally, so intercepted inbound packets reach the
/// proxy's transparent listener.
/// <code>
/// ip -f inet  rule add fwmark 1337 lookup 133 ; ip -f inet  route add local 0.0.0.0/0 dev lo table 133
/// ip -f inet6 rule add fwmark 1337 lookup 133 ; ip -f inet6 route add local ::/0      dev lo table 133
/// </code>
/// </summary>
public static class TproxyRouting
{
    private const ushort RtmNewRoute = 24, RtmDelRoute = 25, RtmNewRule = 32, RtmDelRule = 33;
    private const ushort NlmFExcl = 0x200, NlmFCreate = 0x400;
    private const byte AfInet = 2, AfInet6 = 10;
    private const int Eexist = 17, Enoent = 2, Esrch = 3;

    /// <summary>One rule or route and whether this call created it (so a failed install can undo only its own work).</summary>
    public readonly record struct Step(byte Family, bool IsRule, bool Created);

    /// <summary>Adds the rules and routes (existing ones are kept). Null on success, else the error; <paramref name="created"/> lists what was new.</summary>
    public static string? Install(uint mark, uint table, bool ipv6, List<Step> created)
    {
        ArgumentNullException.ThrowIfNull(created);
        using RtNetlink? nl = RtNetlink.TryOpen(out int errno);
        if (nl is null)
        {
            return $"cannot open a NETLINK_ROUTE socket (errno {errno})";
        }

        uint lo = RtNetlink.InterfaceIndex("lo");
        if (lo == 0)
        {
            return "no loopback interface in this network namespace";
        }

        foreach (byte family in ipv6 ? new[] { AfInet, AfInet6 } : [AfInet])
        {
            int rc = nl.Request(RtmNewRule, NlmFCreate | NlmFExcl, Rule(family, mark, table));
            if (rc != 0 && rc != Eexist)
            {
                return $"adding the TPROXY policy rule (fwmark {mark} lookup {table}, {Name(family)}) failed: errno {rc}";
            }

            created.Add(new Step(family, IsRule: true, Created: rc == 0));
            rc = nl.Request(RtmNewRoute, NlmFCreate | NlmFExcl, LocalDefaultRoute(family, table, lo));
            if (rc != 0 && rc != Eexist)
            {
                return $"adding the TPROXY local route (table {table}, {Name(family)}) failed: errno {rc}";
            }

            created.Add(new Step(family, IsRule: false, Created: rc == 0));
        }

        return null;
    }

    /// <summary>Removes the rules and routes (absent ones are fine). <paramref name="only"/> limits removal to the listed steps.</summary>
    public static string? Remove(uint mark, uint table, IReadOnlyList<Step>? only = null)
    {
        using RtNetlink? nl = RtNetlink.TryOpen(out int errno);
        if (nl is null)
        {
            return $"cannot open a NETLINK_ROUTE socket (errno {errno})";
        }

        uint lo = RtNetlink.InterfaceIndex("lo");
        IEnumerable<Step> steps = only ?? [new(AfInet, true, true), new(AfInet, false, true), new(AfInet6, true, true), new(AfInet6, false, true)];
        foreach (Step s in steps)
        {
            if (!s.Created)
            {
                continue;
            }

            int rc = s.IsRule
                ? nl.Request(RtmDelRule, 0, Rule(s.Family, mark, table))
                : nl.Request(RtmDelRoute, 0, LocalDefaultRoute(s.Family, table, lo));
            if (rc != 0 && rc != Enoent && rc != Esrch)
            {
                return $"removing the TPROXY {(s.IsRule ? "policy rule" : "local route")} ({Name(s.Family)}) failed: errno {rc}";
            }
        }

        return null;
    }

    private static string Name(byte family) => family == AfInet ? "IPv4" : "IPv6";

    /// <summary>
    /// The rule's priority, pinned: what `ip rule add` picks in a fresh namespace (just before
    /// "lookup main"), and a fixed one lets the kernel see a second install as the same rule (EEXIST)
    /// instead of adding a duplicate at the next free priority.
    /// </summary>
    public const uint RulePriority = 32765;

    // struct fib_rule_hdr (linux/fib_rules.h) + FRA_PRIORITY + FRA_TABLE + FRA_FWMARK; action FR_ACT_TO_TBL.
    private static byte[] Rule(byte family, uint mark, uint table)
    {
        const ushort FraPriority = 6, FraFwmark = 10, FraTable = 15;
        const byte FrActToTbl = 1;
        byte[] b = new byte[12 + 8 + 8 + 8];
        b[0] = family;
        b[4] = table < 256 ? (byte)table : (byte)0;
        b[7] = FrActToTbl;
        Attribute(b.AsSpan(12), FraTable, table);
        Attribute(b.AsSpan(20), FraFwmark, mark);
        Attribute(b.AsSpan(28), FraPriority, RulePriority);
        return b;
    }

    // struct rtmsg (linux/rtnetlink.h): type RTN_LOCAL, scope host, protocol boot; default destination (no RTA_DST).
    private static byte[] LocalDefaultRoute(byte family, uint table, uint ifindex)
    {
        const ushort RtaOif = 4, RtaTable = 15;
        const byte RtprotBoot = 3, RtScopeHost = 254, RtnLocal = 2;
        byte[] b = new byte[12 + 8 + 8];
        b[0] = family;
        b[4] = table < 256 ? (byte)table : (byte)0;
        b[5] = RtprotBoot;
        b[6] = RtScopeHost;
        b[7] = RtnLocal;
        Attribute(b.AsSpan(12), RtaTable, table);
        Attribute(b.AsSpan(20), RtaOif, ifindex);
        return b;
    }

    // struct rtattr: u16 length (header + payload), u16 type, then a u32 payload.
    private static void Attribute(Span<byte> at, ushort type, uint value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(at, 8);
        BinaryPrimitives.WriteUInt16LittleEndian(at[2..], type);
        BinaryPrimitives.WriteUInt32LittleEndian(at[4..], value);
    }
}
