using Sidecar.Native.Netns;

namespace Sidecar.Native.Nftables;

/// <summary>
/// The flow behind <c>sidecar istio-iptables</c> and <c>sidecar istio-clean-iptables</c>: parse,
/// generate, then print (<c>--dry-run</c>) or apply through libnftables as one transaction that
/// first deletes our previous tables. Exit codes: 0 done, 1 bad input or apply failure (nothing
/// changed), 126 validation failed (Istio's ValidationErrorCode).
/// </summary>
public static class CaptureCommand
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;
    public const int ExitValidationFailed = 126;

    public static int Install(IReadOnlyList<string> args, ICaptureEnvironment env, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        CaptureParseResult parsed = CaptureArgumentParser.Parse(args, env);
        if (parsed.Invocation is not { } inv)
        {
            stderr.WriteLine($"istio-iptables: {parsed.Error}");
            return ExitFailure;
        }

        if (inv.CleanupOnly)
        {
            return Clean(inv, stdout, stderr, "istio-iptables");
        }

        string script = SidecarCaptureRules.Render(inv.Config);
        if (inv.DryRun)
        {
            stdout.Write(script);
            return ExitOk;
        }

        if (!inv.SkipRuleApply)
        {
            NftResult applied = InNamespace(inv.NetworkNamespace, () => ApplyHere(inv.Config, script));
            if (!applied.Ok)
            {
                stderr.WriteLine($"istio-iptables: applying the nftables rules failed, nothing was changed: {applied.Error}");
                return ExitFailure;
            }
        }

        if (inv.RunValidation)
        {
            string? problem = CaptureValidator.Run(inv);
            if (problem is not null)
            {
                stderr.WriteLine($"istio-iptables: validation failed, the workload is not ready for the mesh: {problem}");
                return ExitValidationFailed;
            }
        }

        return ExitOk;
    }

    /// <summary><c>istio-clean-iptables</c>: removes exactly the istio-proxy-{nat,mangle,raw} tables.</summary>
    public static int Clean(IReadOnlyList<string> args, ICaptureEnvironment env, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        CaptureParseResult parsed = CaptureArgumentParser.Parse(args, env);
        if (parsed.Invocation is not { } inv)
        {
            stderr.WriteLine($"istio-clean-iptables: {parsed.Error}");
            return ExitFailure;
        }

        return Clean(inv, stdout, stderr, "istio-clean-iptables");
    }

    private static int Clean(CaptureInvocation inv, TextWriter stdout, TextWriter stderr, string name)
    {
        string script = NftScript.DeleteTables(IstioNft.SidecarTables);
        if (inv.DryRun)
        {
            stdout.Write(script);
            return ExitOk;
        }

        CaptureConfig cfg = inv.Config;
        NftResult r = InNamespace(inv.NetworkNamespace, () =>
        {
            NftResult deleted = RunHere(script);
            string? routes = deleted.Ok ? TproxyRouting.Remove(cfg.TproxyMark, cfg.TproxyRouteTable) : null;
            return routes is null ? deleted : new NftResult(NftFailure.CommandFailed, "", routes);
        });
        if (!r.Ok)
        {
            stderr.WriteLine($"{name}: removing the nftables tables failed: {r.Error}");
            return ExitFailure;
        }

        return ExitOk;
    }

    /// <summary>Runs one script in the current network namespace, or inside the given one (a path, or a name under /var/run/netns).</summary>
    public static NftResult RunIn(string? networkNamespace, string script) => InNamespace(networkNamespace, () => RunHere(script));

    /// <summary>
    /// Routes first (TPROXY only), then the nft transaction, which also deletes our old tables so a
    /// changed config never leaves stale chains. If the transaction fails, the routes this call
    /// created are taken away again: nothing is left half-applied.
    /// </summary>
    private static NftResult ApplyHere(CaptureConfig cfg, string script)
    {
        var created = new List<TproxyRouting.Step>();
        bool tproxy = cfg.Mode == InboundInterceptionMode.Tproxy;
        if (tproxy && TproxyRouting.Install(cfg.TproxyMark, cfg.TproxyRouteTable, cfg.EnableIpv6, created) is { } routeError)
        {
            TproxyRouting.Remove(cfg.TproxyMark, cfg.TproxyRouteTable, created);
            return new NftResult(NftFailure.CommandFailed, "", routeError);
        }

        NftResult applied = RunHere(NftScript.DeleteTables(IstioNft.SidecarTables) + script);
        if (!applied.Ok)
        {
            TproxyRouting.Remove(cfg.TproxyMark, cfg.TproxyRouteTable, created);
            return applied;
        }

        // REDIRECT mode after TPROXY: the policy routes of the old mode go too.
        string? stale = tproxy ? null : TproxyRouting.Remove(cfg.TproxyMark, cfg.TproxyRouteTable);
        return stale is null ? applied : new NftResult(NftFailure.CommandFailed, "", stale);
    }

    private static NftResult InNamespace(string? networkNamespace, Func<NftResult> work)
    {
        if (networkNamespace is null)
        {
            return work();
        }

        NetworkNamespace ns;
        try
        {
            ns = networkNamespace.Contains('/', StringComparison.Ordinal)
                ? NetworkNamespace.Open(networkNamespace)
                : NetworkNamespace.OpenNamed(networkNamespace);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return new NftResult(NftFailure.CommandFailed, "", $"cannot open network namespace {networkNamespace}: {ex.Message}");
        }

        using (ns)
        {
            try
            {
                return ns.Run(work);
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                return new NftResult(NftFailure.CommandFailed, "", $"cannot enter network namespace {networkNamespace}: {ex.Message}");
            }
        }
    }

    private static NftResult RunHere(string script)
    {
        using NftablesClient? client = NftablesClient.TryCreate(out NftResult failure);
        return client is null ? failure : client.Run(script);
    }
}
