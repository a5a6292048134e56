using System.Globalization;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Transport;
using Sidecar.Native.Capabilities;
using Sidecar.Native.Seccomp;

namespace Sidecar;

/// <summary>
/// Opt-in self-confinement of <c>sidecar proxy --seccomp</c> (or SIDECAR_SECCOMP=1), in two steps
/// because of how Linux scopes each mechanism. Capabilities are per thread and a thread inherits its
/// creator's, so they are dropped first, before the runtime has started any worker thread
/// (<see cref="ProcessCapabilities"/>), keeping only what the running proxy needs. The seccomp
/// filter is loaded with TSYNC, which reaches every thread at once, so it waits until the listeners
/// are bound (<see cref="LockDown"/>). Asked-for confinement that cannot be applied stops the start:
/// an operator who asked for it must not get an unconfined proxy silently.
/// </summary>
internal sealed class Confinement
{
    private readonly CapabilityDropReport _capabilities;

    private Confinement(CapabilityDropReport capabilities) => _capabilities = capabilities;

    /// <summary>SIDECAR_SECCOMP=1 turns confinement on as --seccomp does.</summary>
    public static bool RequestedByEnvironment => Environment.GetEnvironmentVariable("SIDECAR_SECCOMP") is "1" or "true";

    /// <summary>Step 1: call before anything creates threads (host construction, sockets, timers).</summary>
    public static Confinement DropCapabilities(CapabilitySet keep) => new(ProcessCapabilities.DropOnAllThreads(keep));

    /// <summary>
    /// What the proxy still needs once running: CAP_NET_ADMIN to set SO_MARK on upstream sockets when a
    /// mark is configured (net/core/sock.c), CAP_NET_ADMIN and CAP_NET_RAW for IP_TRANSPARENT when a
    /// listener intercepts with TPROXY (net/ipv4/ip_sockglue.c), and CAP_NET_BIND_SERVICE when a port
    /// is below net.ipv4.ip_unprivileged_port_start (Istio's ports are all above it).
    /// </summary>
    public static CapabilitySet NeededAfterStart(BootstrapModel model, TransportSettings transport, bool transparentListeners)
    {
        CapabilitySet keep = CapabilitySet.Empty;
        if (transport.UpstreamMark != 0)
        {
            keep = keep.With(Capability.NetAdmin);
        }

        if (transparentListeners)
        {
            keep = keep.With(Capability.NetAdmin).With(Capability.NetRaw);
        }

        int unprivilegedStart = UnprivilegedPortStart();
        bool lowPort = model.Admin is { } admin && admin.Address.Port is > 0 && admin.Address.Port < unprivilegedStart;
        foreach (ListenerModel l in model.Listeners)
        {
            lowPort |= l.Address.Port is > 0 && l.Address.Port < unprivilegedStart;
        }

        return lowPort ? keep.With(Capability.NetBindService) : keep;
    }

    /// <summary>Step 2, after the listeners are bound: the seccomp filter. False: refuse to run.</summary>
    public bool LockDown()
    {
        if (!_capabilities.Complete)
        {
            Console.Error.WriteLine($"confinement: capabilities not dropped on every thread ({Describe(_capabilities)}); refusing to run");
            return false;
        }

        SeccompInstallReport seccomp = SelfConfinement.InstallProxyFilter();
        if (!seccomp.Installed)
        {
            Console.Error.WriteLine($"confinement: {seccomp.Describe()}; refusing to run");
            return false;
        }

        Console.WriteLine($"confinement: {seccomp.Describe()}; {Describe(_capabilities)}");
        return true;
    }

    public static string Describe(CapabilityDropReport caps) =>
        $"capabilities kept: {caps.Kept} on {caps.Threads - caps.ThreadsAboveKept}/{caps.Threads} threads"
        + (caps.Caller.BoundingErrno == 0 ? ", bounding set cleared" : $", bounding set unchanged (errno {caps.Caller.BoundingErrno})")
        + (caps.Caller.CapsetErrno == 0 ? "" : $", capset errno {caps.Caller.CapsetErrno}")
        + (caps.Finalizer.CapsetErrno == 0 ? "" : $", finalizer thread capset errno {caps.Finalizer.CapsetErrno}");

    private static int UnprivilegedPortStart()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start").AsSpan().Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 1024;
        }
    }
}
