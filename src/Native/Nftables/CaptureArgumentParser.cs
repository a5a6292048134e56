namespace Sidecar.Native.Nftables;

/// <summary>
/// istio-iptables' command line (cobra/pflag syntax: <c>-p 15001</c>, <c>-p15001</c>, <c>--envoy-port 15001</c>,
/// <c>--envoy-port=15001</c>, switches with optional <c>=true|false</c>) plus its environment fallbacks,
/// validated into a <see cref="CaptureInvocation"/>. Precedence: flag, then environment, then Istio's default.
/// </summary>
public static class CaptureArgumentParser
{
    public static CaptureParseResult Parse(IReadOnlyList<string> args, ICaptureEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(env);
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        string? error = ReadArguments(args, given);
        if (error is not null)
        {
            return CaptureParseResult.Fail(error);
        }

        return Build(new Values(given, env));
    }

    private static string? ReadArguments(IReadOnlyList<string> args, Dictionary<string, string> given)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            CaptureFlag? flag;
            string? inline = null;
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a[2..];
                int eq = name.IndexOf('=', StringComparison.Ordinal);
                if (eq >= 0)
                {
                    inline = name[(eq + 1)..];
                    name = name[..eq];
                }

                flag = CaptureFlags.Find(name);
                if (flag is null)
                {
                    return $"unknown flag: --{name}";
                }
            }
            else if (a.Length >= 2 && a[0] == '-' && a[1] != '-')
            {
                flag = CaptureFlags.Find(a[1]);
                if (flag is null)
                {
                    return $"unknown shorthand flag: '{a[1]}' in {a}";
                }

                if (a.Length > 2)
                {
                    inline = a[2] == '=' ? a[3..] : a[2..];
                }
            }
            else
            {
                return $"unexpected argument: '{a}' (istio-iptables takes flags only)";
            }

            string value;
            if (flag.IsSwitch)
            {
                value = inline ?? "true";
            }
            else if (inline is not null)
            {
                value = inline;
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            else
            {
                return $"flag needs an argument: --{flag.Long}";
            }

            given[flag.Long] = value;
        }

        return null;
    }

    private static CaptureParseResult Build(Values v)
    {
        string? e;
        if (!CaptureValues.TryPort(v.Get(CaptureFlags.EnvoyPort) ?? "15001", "--envoy-port (-p)", out ushort proxyPort, out e)
            || !CaptureValues.TryPort(v.Get(CaptureFlags.InboundCapturePort) ?? "15006", "--inbound-capture-port (-z)", out ushort capturePort, out e)
            || !CaptureValues.TryPort(v.Get(CaptureFlags.InboundTunnelPort) ?? "15008", "--inbound-tunnel-port (-e)", out ushort tunnelPort, out e))
        {
            return CaptureParseResult.Fail(e!);
        }

        // One port for two jobs would loop captured traffic into itself.
        if (proxyPort == capturePort || proxyPort == tunnelPort || capturePort == tunnelPort)
        {
            return CaptureParseResult.Fail(
                $"conflicting ports: envoy port {proxyPort}, inbound capture port {capturePort} and inbound tunnel port {tunnelPort} must all differ");
        }

        if (!CaptureValues.TryOwners(v.Get(CaptureFlags.ProxyUid) ?? "1337", "--proxy-uid (-u)", out List<string> uids, out e))
        {
            return CaptureParseResult.Fail(e!);
        }

        // As istio-iptables: the GID list defaults to the UID list.
        string? gidText = v.Get(CaptureFlags.ProxyGid);
        if (!CaptureValues.TryOwners(string.IsNullOrEmpty(gidText) ? string.Join(',', uids) : gidText, "--proxy-gid (-g)", out List<string> gids, out e))
        {
            return CaptureParseResult.Fail(e!);
        }

        if (uids.Count == 0)
        {
            return CaptureParseResult.Fail("--proxy-uid (-u): at least one UID is needed, or the proxy's own traffic would be captured (a loop)");
        }

        InboundInterceptionMode mode;
        switch ((v.Get(CaptureFlags.InterceptionMode) ?? "").ToUpperInvariant())
        {
            case "" or "REDIRECT":
                mode = InboundInterceptionMode.Redirect;
                break;
            case "TPROXY":
                mode = InboundInterceptionMode.Tproxy;
                break;
            default:
                return CaptureParseResult.Fail($"--istio-inbound-interception-mode (-m): '{v.Get(CaptureFlags.InterceptionMode)}' is not REDIRECT or TPROXY");
        }

        if (!CaptureValues.TryUInt(v.Get(CaptureFlags.TproxyMark) ?? "1337", "--istio-inbound-tproxy-mark (-t)", out uint mark, out e)
            || !CaptureValues.TryUInt(v.Get(CaptureFlags.TproxyRouteTable) ?? "133", "--istio-inbound-tproxy-route-table (-r)", out uint routeTable, out e)
            || !CaptureValues.TryPortSelection(v.Get(CaptureFlags.InboundPorts), "--istio-inbound-ports (-b)", out PortSelection inbound, out e)
            || !CaptureValues.TryPorts(v.Get(CaptureFlags.LocalExcludePorts), "--istio-local-exclude-ports (-d)", out List<ushort> inboundExclude, out e)
            || !CaptureValues.TryPorts(v.Get(CaptureFlags.OutboundPorts), "--istio-outbound-ports (-q)", out List<ushort> outboundInclude, out e)
            || !CaptureValues.TryPorts(v.Get(CaptureFlags.LocalOutboundPortsExclude), "--istio-local-outbound-ports-exclude (-o)", out List<ushort> outboundExclude, out e)
            || !CaptureValues.TryIpRanges(v.Get(CaptureFlags.ServiceCidr), "--istio-service-cidr (-i)", out IpRanges include, out e)
            || !CaptureValues.TryIpRanges(v.Get(CaptureFlags.ServiceExcludeCidr), "--istio-service-exclude-cidr (-x)", out IpRanges exclude, out e)
            || !CaptureValues.TryInterfaces(v.Get(CaptureFlags.KubeVirtInterfaces), "--kube-virt-interfaces (-k)", out List<string> virt, out e)
            || !CaptureValues.TryInterfaces(v.Get(CaptureFlags.ExcludeInterfaces), "--istio-exclude-interfaces (-c)", out List<string> excludeNics, out e))
        {
            return CaptureParseResult.Fail(e!);
        }

        if (exclude.IsWildcard)
        {
            return CaptureParseResult.Fail("--istio-service-exclude-cidr (-x): '*' is not allowed (it would exclude everything; use an empty -i instead)");
        }

        CaptureParseResult? flagsError = ReadSwitches(v, out Switches sw);
        if (flagsError is not null)
        {
            return flagsError.Value;
        }

        string loopback = v.Get(CaptureFlags.LoopbackCidr) ?? "127.0.0.1/32";
        if (!CaptureValues.TryCidr(loopback, out System.Net.IPAddress? loopAddr, out _)
            || loopAddr!.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || !System.Net.IPAddress.IsLoopback(loopAddr))
        {
            return CaptureParseResult.Fail($"ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR: '{loopback}' is not an IPv4 loopback CIDR");
        }

        CaptureParseResult? groupsError = ReadOwnerGroups(v, out OwnerGroupFilter groups);
        if (groupsError is not null)
        {
            return groupsError.Value;
        }

        if (!CaptureValues.TryPort(v.Get(CaptureFlags.ProbePort) ?? "15002", "--iptables-probe-port", out ushort probePort, out e))
        {
            return CaptureParseResult.Fail(e!);
        }

        TimeSpan probeTimeout = TimeSpan.FromSeconds(5);
        if (v.Get(CaptureFlags.ProbeTimeout) is { } pt && !CaptureValues.TryDuration(pt, out probeTimeout))
        {
            return CaptureParseResult.Fail($"--probe-timeout: '{pt}' is not a duration such as 5s or 500ms");
        }

        var servers4 = new List<System.Net.IPAddress>();
        var servers6 = new List<System.Net.IPAddress>();
        if (sw.RedirectDns && !sw.CaptureAllDns)
        {
            foreach (System.Net.IPAddress a in v.Env.ResolvConfNameservers())
            {
                (a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? servers4 : servers6).Add(a);
            }
        }

        var cfg = new CaptureConfig
        {
            ProxyPort = proxyPort,
            InboundCapturePort = capturePort,
            InboundTunnelPort = tunnelPort,
            ProxyUids = uids,
            ProxyGids = gids,
            Mode = mode,
            TproxyMark = mark,
            TproxyRouteTable = routeTable,
            InboundPorts = inbound,
            InboundPortsExclude = inboundExclude,
            OutboundPortsInclude = outboundInclude,
            OutboundPortsExclude = outboundExclude,
            OutboundIpRangesInclude = include,
            OutboundIpRangesExclude = exclude,
            RerouteVirtualInterfaces = virt,
            ExcludeInterfaces = excludeNics,
            RedirectDns = sw.RedirectDns,
            CaptureAllDns = sw.CaptureAllDns,
            DnsServersV4 = servers4,
            DnsServersV6 = servers6,
            DropInvalid = sw.DropInvalid,
            EnableIpv6 = v.Env.WantsIpv6(sw.DualStack),
            OwnerGroups = groups,
            HostIpv4LoopbackCidr = loopback,
        };
        return new CaptureParseResult(new CaptureInvocation(cfg)
        {
            DryRun = sw.DryRun,
            CleanupOnly = sw.CleanupOnly,
            SkipRuleApply = sw.SkipRuleApply,
            RunValidation = sw.RunValidation,
            NetworkNamespace = v.Get(CaptureFlags.NetworkNamespace) is { Length: > 0 } ns ? ns : null,
            ProbePort = probePort,
            ProbeTimeout = probeTimeout,
        }, null);
    }

    private readonly record struct Switches(
        bool DryRun, bool CleanupOnly, bool SkipRuleApply, bool RunValidation, bool RedirectDns, bool CaptureAllDns, bool DropInvalid, bool DualStack);

    private static CaptureParseResult? ReadSwitches(Values v, out Switches sw)
    {
        sw = default;
        bool[] values = new bool[8];
        string[] names =
        [
            CaptureFlags.DryRun, CaptureFlags.CleanupOnly, CaptureFlags.SkipRuleApply, CaptureFlags.RunValidation,
            CaptureFlags.RedirectDns, CaptureFlags.CaptureAllDns, CaptureFlags.DropInvalid, CaptureFlags.DualStack,
        ];
        for (int i = 0; i < names.Length; i++)
        {
            string? text = v.Get(names[i]);
            if (text is not null && !CaptureValues.TryBool(text, out values[i]))
            {
                return CaptureParseResult.Fail($"--{names[i]}: '{text}' is not true or false");
            }
        }

        sw = new Switches(values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7]);
        return null;
    }

    // Istio: ISTIO_OUTBOUND_OWNER_GROUPS (default "*": everyone) or ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE, not both.
    private static CaptureParseResult? ReadOwnerGroups(Values v, out OwnerGroupFilter groups)
    {
        groups = OwnerGroupFilter.Everyone;
        string include = v.Get(CaptureFlags.OwnerGroupsInclude) ?? "*";
        string excludeText = v.Get(CaptureFlags.OwnerGroupsExclude) ?? "";
        if (!CaptureValues.TryOwners(excludeText, "ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE", out List<string> exclude, out string? e))
        {
            return CaptureParseResult.Fail(e!);
        }

        bool includeAll = include.Trim() is "*" or "";
        if (!includeAll && exclude.Count > 0)
        {
            return CaptureParseResult.Fail("ISTIO_OUTBOUND_OWNER_GROUPS and ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE cannot both be set");
        }

        if (exclude.Count > 0)
        {
            groups = new OwnerGroupFilter([], exclude);
            return null;
        }

        if (includeAll)
        {
            return null;
        }

        if (!CaptureValues.TryOwners(include, "ISTIO_OUTBOUND_OWNER_GROUPS", out List<string> inc, out e))
        {
            return CaptureParseResult.Fail(e!);
        }

        groups = new OwnerGroupFilter(inc, []);
        return null;
    }

    /// <summary>Flag value if given, else the first environment variable that is set.</summary>
    private sealed class Values(Dictionary<string, string> given, ICaptureEnvironment env)
    {
        public ICaptureEnvironment Env => env;

        public string? Get(string longName)
        {
            if (given.TryGetValue(longName, out string? v))
            {
                return v;
            }

            CaptureFlag flag = CaptureFlags.Find(longName)!;
            foreach (string name in flag.Env)
            {
                if (env.GetVariable(name) is { Length: > 0 } value)
                {
                    return value;
                }
            }

            return null;
        }
    }
}
