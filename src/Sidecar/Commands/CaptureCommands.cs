using Sidecar.Native.Nftables;

namespace Sidecar.Commands;

/// <summary>
/// <c>sidecar istio-iptables …</c> and <c>sidecar istio-clean-iptables …</c>: istio-init's traffic
/// capture, installed as native nftables through libnftables. The work is in
/// <see cref="CaptureCommand"/>; this binds it to the real process environment and console.
/// </summary>
internal static class CaptureCommands
{
    public static int IstioIptables(string[] args)
        => CaptureCommand.Install(args, new SystemCaptureEnvironment(), Console.Out, Console.Error);

    public static int IstioCleanIptables(string[] args)
        => CaptureCommand.Clean(args, new SystemCaptureEnvironment(), Console.Out, Console.Error);
}
