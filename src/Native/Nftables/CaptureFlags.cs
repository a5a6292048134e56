namespace Sidecar.Native.Nftables;

/// <summary>One istio-iptables flag: long name, optional one-letter form, the environment variables that
/// supply it when the flag is absent (first set one wins), and whether it is a switch.</summary>
internal sealed record CaptureFlag(string Long, char? Short, string[] Env, bool IsSwitch = false);

/// <summary>
/// The flag surface of istio-iptables / istio-nftables (tools/istio-iptables/pkg/constants): names,
/// letters and the environment variables viper binds them to (flag name upper-cased, '-' → '_'),
/// plus the pilot-agent variables that default some of them.
/// </summary>
internal static class CaptureFlags
{
    public const string EnvoyPort = "envoy-port";
    public const string InboundCapturePort = "inbound-capture-port";
    public const string InboundTunnelPort = "inbound-tunnel-port";
    public const string ProxyUid = "proxy-uid";
    public const string ProxyGid = "proxy-gid";
    public const string InterceptionMode = "istio-inbound-interception-mode";
    public const string TproxyMark = "istio-inbound-tproxy-mark";
    public const string TproxyRouteTable = "istio-inbound-tproxy-route-table";
    public const string InboundPorts = "istio-inbound-ports";
    public const string LocalExcludePorts = "istio-local-exclude-ports";
    public const string ExcludeInterfaces = "istio-exclude-interfaces";
    public const string ServiceCidr = "istio-service-cidr";
    public const string ServiceExcludeCidr = "istio-service-exclude-cidr";
    public const string OutboundPorts = "istio-outbound-ports";
    public const string LocalOutboundPortsExclude = "istio-local-outbound-ports-exclude";
    public const string KubeVirtInterfaces = "kube-virt-interfaces";
    public const string DryRun = "dry-run";
    public const string SkipRuleApply = "skip-rule-apply";
    public const string RunValidation = "run-validation";
    public const string ProbePort = "iptables-probe-port";
    public const string ProbeTimeout = "probe-timeout";
    public const string RedirectDns = "redirect-dns";
    public const string CaptureAllDns = "capture-all-dns";
    public const string DropInvalid = "drop-invalid";
    public const string DualStack = "dual-stack";
    public const string NetworkNamespace = "network-namespace";
    public const string CleanupOnly = "cleanup-only";
    public const string OwnerGroupsInclude = "outbound-owner-groups";
    public const string OwnerGroupsExclude = "outbound-owner-groups-exclude";
    public const string LoopbackCidr = "ipv4-loopback-cidr";

    public static readonly CaptureFlag[] All =
    [
        new(EnvoyPort, 'p', ["ENVOY_PORT"]),
        new(InboundCapturePort, 'z', ["INBOUND_CAPTURE_PORT"]),
        new(InboundTunnelPort, 'e', ["INBOUND_TUNNEL_PORT"]),
        new(ProxyUid, 'u', ["PROXY_UID"]),
        new(ProxyGid, 'g', ["PROXY_GID"]),
        new(InterceptionMode, 'm', ["ISTIO_INBOUND_INTERCEPTION_MODE", "INBOUND_INTERCEPTION_MODE"]),
        new(TproxyMark, 't', ["ISTIO_INBOUND_TPROXY_MARK", "INBOUND_TPROXY_MARK"]),
        new(TproxyRouteTable, 'r', ["ISTIO_INBOUND_TPROXY_ROUTE_TABLE", "INBOUND_TPROXY_ROUTE_TABLE"]),
        new(InboundPorts, 'b', ["ISTIO_INBOUND_PORTS"]),
        new(LocalExcludePorts, 'd', ["ISTIO_LOCAL_EXCLUDE_PORTS"]),
        new(ExcludeInterfaces, 'c', ["ISTIO_EXCLUDE_INTERFACES"]),
        new(ServiceCidr, 'i', ["ISTIO_SERVICE_CIDR"]),
        new(ServiceExcludeCidr, 'x', ["ISTIO_SERVICE_EXCLUDE_CIDR"]),
        new(OutboundPorts, 'q', ["ISTIO_OUTBOUND_PORTS"]),
        new(LocalOutboundPortsExclude, 'o', ["ISTIO_LOCAL_OUTBOUND_PORTS_EXCLUDE"]),
        new(KubeVirtInterfaces, 'k', ["KUBE_VIRT_INTERFACES"]),
        new(DryRun, 'n', ["DRY_RUN"], IsSwitch: true),
        new(SkipRuleApply, null, ["SKIP_RULE_APPLY"], IsSwitch: true),
        new(RunValidation, null, ["RUN_VALIDATION"], IsSwitch: true),
        new(ProbePort, null, ["IPTABLES_PROBE_PORT"]),
        new(ProbeTimeout, null, ["PROBE_TIMEOUT"]),
        new(RedirectDns, null, ["REDIRECT_DNS", "ISTIO_META_DNS_CAPTURE"], IsSwitch: true),
        new(CaptureAllDns, null, ["CAPTURE_ALL_DNS"], IsSwitch: true),
        new(DropInvalid, null, ["DROP_INVALID", "INVALID_DROP"], IsSwitch: true),
        new(DualStack, null, ["DUAL_STACK", "ISTIO_DUAL_STACK", "ISTIO_AGENT_DUAL_STACK"], IsSwitch: true),
        new(NetworkNamespace, null, ["NETWORK_NAMESPACE"]),
        new(CleanupOnly, null, ["CLEANUP_ONLY"], IsSwitch: true),
        // Environment-only in Istio; flags here so a test or operator can pass them explicitly.
        new(OwnerGroupsInclude, null, ["ISTIO_OUTBOUND_OWNER_GROUPS"]),
        new(OwnerGroupsExclude, null, ["ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE"]),
        new(LoopbackCidr, null, ["ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR"]),
    ];

    /// <summary>Accepted for compatibility and ignored: iptables-only or reconciliation knobs that have no meaning here.</summary>
    public static readonly CaptureFlag[] Ignored =
    [
        new("native-nftables", null, [], IsSwitch: true),
        new("restore-format", 'f', [], IsSwitch: true),
        new("iptables-trace-logging", null, [], IsSwitch: true),
        new("nftables-trace-logging", null, [], IsSwitch: true),
        new("cni-mode", null, [], IsSwitch: true),
        new("reconcile", null, [], IsSwitch: true),
        new("force-apply", null, [], IsSwitch: true),
        new("force-iptables-binary", null, [], IsSwitch: true),
        new("nftables-probe-port", null, []),

        // istio's common logging flags (the injector passes --log_output_level to istio-init).
        new("log_output_level", null, []),
        new("log_stacktrace_level", null, []),
        new("log_caller", null, []),
        new("log_target", null, []),
        new("log_rotate", null, []),
        new("log_rotate_max_age", null, []),
        new("log_rotate_max_backups", null, []),
        new("log_rotate_max_size", null, []),
        new("log_as_json", null, [], IsSwitch: true),
    ];

    public static CaptureFlag? Find(string longName)
    {
        foreach (CaptureFlag f in All)
        {
            if (f.Long == longName)
            {
                return f;
            }
        }

        foreach (CaptureFlag f in Ignored)
        {
            if (f.Long == longName)
            {
                return f;
            }
        }

        return null;
    }

    public static CaptureFlag? Find(char letter)
    {
        foreach (CaptureFlag f in All)
        {
            if (f.Short == letter)
            {
                return f;
            }
        }

        foreach (CaptureFlag f in Ignored)
        {
            if (f.Short == letter)
            {
                return f;
            }
        }

        return null;
    }
}
