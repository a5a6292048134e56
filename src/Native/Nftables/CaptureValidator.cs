using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Sidecar.Native.Netns;
using Sidecar.Native.Sockets;

namespace Sidecar.Native.Nftables;

/// <summary>
/// <c>--run-validation</c>: proves the installed rules capture traffic. A listener on the inbound
/// capture port waits; a connection to the pod's own address on the probe port (15002) must arrive
/// there with that probe port as its original destination. The proxy UID's traffic to the pod IP is
/// what the rules send to the inbound port, so (like Istio's istio-validation container) this must
/// run as the proxy UID.
/// </summary>
internal static class CaptureValidator
{
    /// <summary>Null when traffic was captured; otherwise what went wrong.</summary>
    public static string? Run(CaptureInvocation inv)
    {
        try
        {
            if (inv.NetworkNamespace is null)
            {
                return Probe(inv);
            }

            using NetworkNamespace ns = inv.NetworkNamespace.Contains('/', StringComparison.Ordinal)
                ? NetworkNamespace.Open(inv.NetworkNamespace)
                : NetworkNamespace.OpenNamed(inv.NetworkNamespace);
            return ns.Run(() => Probe(inv));
        }
        catch (Exception ex) when (ex is SocketException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            return ex.Message;
        }
    }

    private static string? Probe(CaptureInvocation inv)
    {
        IPAddress? pod = FirstGlobalAddress();
        if (pod is null)
        {
            return "the namespace has no global address to probe";
        }

        using var listener = new Socket(pod.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(pod.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, inv.Config.InboundCapturePort));
        listener.Listen(1);
        using var client = new Socket(pod.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(inv.ProbeTimeout);
        try
        {
            client.ConnectAsync(new IPEndPoint(pod, inv.ProbePort), cts.Token).AsTask().GetAwaiter().GetResult();
            using Socket accepted = listener.AcceptAsync(cts.Token).AsTask().GetAwaiter().GetResult();
            if (!OriginalDestination.TryGet(accepted, out IPEndPoint? original) || original!.Port != inv.ProbePort)
            {
                return $"a connection reached port {inv.Config.InboundCapturePort} but not through the capture rules (original destination {original?.ToString() ?? "unknown"})";
            }

            return null;
        }
        catch (OperationCanceledException)
        {
            return $"no captured connection within {inv.ProbeTimeout.TotalSeconds:0.###}s ({pod}:{inv.ProbePort} → :{inv.Config.InboundCapturePort})";
        }
        catch (SocketException ex)
        {
            return $"probe to {pod}:{inv.ProbePort} failed: {ex.SocketErrorCode} (the connection was not captured)";
        }
    }

    private static IPAddress? FirstGlobalAddress()
    {
        foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            foreach (UnicastIPAddressInformation u in nic.GetIPProperties().UnicastAddresses)
            {
                IPAddress a = u.Address;
                if (!IPAddress.IsLoopback(a) && !a.IsIPv6LinkLocal && !(a.AddressFamily == AddressFamily.InterNetwork && a.GetAddressBytes()[0] == 169))
                {
                    return a;
                }
            }
        }

        return null;
    }
}
