using System.Net;
using System.Net.Sockets;
using Sidecar.Native.Nftables;
using Sidecar.Native.Sockets;
using Sidecar.Native.Tests.Support;

namespace Sidecar.Native.Tests.Nftables;

/// <summary>
/// Privileged: the generated rules steer real connections between two namespaces. The test process
/// is root (UID 0), i.e. an application, not the proxy UID 1337.
/// </summary>
public sealed class CaptureTrafficTests
{
    private const int PeerPort = 8080;
    private const int AppPort = 9000;
    private const int ExcludedAppPort = 9001;

    [RootFact]
    public async Task Sidecar_DualStack_OutboundTo15001_InboundTo15006_ExcludedPortPassesThrough()
    {
        using PodPair pair = PodPair.Create();
        var err = new StringWriter();
        int rc = CaptureCommand.Install(
            ["-i", "*", "-b", "*", "-d", ExcludedAppPort.ToString(), "--dual-stack", "--network-namespace", pair.Pod.Name],
            new FakeCaptureEnvironment(), TextWriter.Null, err);
        Assert.True(rc == 0, err.ToString());

        foreach ((AddressFamily family, IPAddress any, IPAddress pod, IPAddress peer) in Families())
        {
            (Socket outbound, Socket inbound, Socket excluded, Socket appClient) = pair.PodNs.Run(() => (
                PodPair.Listen(new IPEndPoint(any, 15001)),
                PodPair.Listen(new IPEndPoint(any, 15006)),
                PodPair.Listen(new IPEndPoint(any, ExcludedAppPort)),
                PodPair.Client(family)));
            (Socket peerClient, Socket peerClient2) = pair.PeerNs.Run(() => (PodPair.Client(family), PodPair.Client(family)));
            using (outbound)
            using (inbound)
            using (excluded)
            using (appClient)
            using (peerClient)
            using (peerClient2)
            {
                // App → peer: captured on 15001, original destination preserved.
                Assert.Equal(new IPEndPoint(peer, PeerPort), await PodPair.ConnectAndAccept(appClient, new IPEndPoint(peer, PeerPort), outbound));

                // Peer → pod app port: captured on 15006.
                Assert.Equal(new IPEndPoint(pod, AppPort), await PodPair.ConnectAndAccept(peerClient, new IPEndPoint(pod, AppPort), inbound));

                // Peer → excluded port (-d): reaches the app's own listener, not NATed.
                Assert.Null(await PodPair.ConnectAndAccept(peerClient2, new IPEndPoint(pod, ExcludedAppPort), excluded));
            }
        }

        Assert.Equal(0, CaptureCommand.Clean(["--network-namespace", pair.Pod.Name], new FakeCaptureEnvironment(), TextWriter.Null, err));
        Assert.Equal("", NftNamespaceOps.ListRuleset(pair.Pod).Trim());
    }

    [RootFact]
    public async Task Ambient_DualStack_UnmarkedCaptured_ZtunnelMarkBypasses_HboneNotCaptured()
    {
        using PodPair pair = PodPair.Create();
        NftNamespaceOps.Apply(pair.Pod, AmbientInpodRules.RenderReplacing(new AmbientInpodConfig { EnableIpv6 = true, RedirectDns = true }));

        foreach ((AddressFamily family, IPAddress any, IPAddress pod, IPAddress peer) in Families())
        {
            (Socket outbound, Socket inbound, Socket hbone, Socket app, Socket ztunnel) = pair.PodNs.Run(() => (
                PodPair.Listen(new IPEndPoint(any, 15001)),
                PodPair.Listen(new IPEndPoint(any, 15006)),
                PodPair.Listen(new IPEndPoint(any, 15008)),
                PodPair.Client(family),
                PodPair.Client(family, SocketMark.ProxyBypass)));
            (Socket peerService, Socket peerClient, Socket peerClient2) = pair.PeerNs.Run(() => (
                PodPair.Listen(new IPEndPoint(any, PeerPort)), PodPair.Client(family), PodPair.Client(family)));
            using (outbound)
            using (inbound)
            using (hbone)
            using (app)
            using (ztunnel)
            using (peerService)
            using (peerClient)
            using (peerClient2)
            {
                Assert.Equal(new IPEndPoint(peer, PeerPort), await PodPair.ConnectAndAccept(app, new IPEndPoint(peer, PeerPort), outbound));

                // ztunnel's own socket (SO_MARK 0x539) goes out for real and reaches the peer.
                Assert.Null(await PodPair.ConnectAndAccept(ztunnel, new IPEndPoint(peer, PeerPort), peerService));

                Assert.Equal(new IPEndPoint(pod, AppPort), await PodPair.ConnectAndAccept(peerClient, new IPEndPoint(pod, AppPort), inbound));
                Assert.Null(await PodPair.ConnectAndAccept(peerClient2, new IPEndPoint(pod, 15008), hbone));
            }
        }
    }

    [RootFact]
    public async Task Sidecar_Tproxy_DualStack_InboundReachesTransparentListenerWithOriginalAddresses()
    {
        using PodPair pair = PodPair.Create();
        var err = new StringWriter();
        int rc = CaptureCommand.Install(
            ["-m", "TPROXY", "-b", "*", "--dual-stack", "--network-namespace", pair.Pod.Name], new FakeCaptureEnvironment(), TextWriter.Null, err);
        Assert.True(rc == 0, err.ToString());

        foreach ((AddressFamily family, IPAddress any, IPAddress pod, IPAddress peer) in Families())
        {
            // TPROXY hands packets only to listeners with IP_TRANSPARENT / IPV6_TRANSPARENT (needs CAP_NET_ADMIN).
            Socket inbound = pair.PodNs.Run(() =>
            {
                var s = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
                if (family == AddressFamily.InterNetwork)
                {
                    s.SetRawSocketOption(0 /* SOL_IP */, 19 /* IP_TRANSPARENT */, BitConverter.GetBytes(1));
                }
                else
                {
                    s.SetRawSocketOption(41 /* SOL_IPV6 */, 75 /* IPV6_TRANSPARENT */, BitConverter.GetBytes(1));
                }

                s.Bind(new IPEndPoint(any, 15006));
                s.Listen();
                return s;
            });
            Socket peerClient = pair.PeerNs.Run(() => PodPair.Client(family));
            using (inbound)
            using (peerClient)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await peerClient.ConnectAsync(new IPEndPoint(pod, AppPort), cts.Token);
                using Socket accepted = await inbound.AcceptAsync(cts.Token);

                // No NAT in TPROXY mode: the accepted socket carries the original destination and the real source.
                Assert.Equal(new IPEndPoint(pod, AppPort), accepted.LocalEndPoint);
                Assert.Equal(peer, ((IPEndPoint)accepted.RemoteEndPoint!).Address);
            }
        }
    }

    [RootFact]
    public void RunValidation_PassesWhenCaptureWorks_Exits126WithoutRules()
    {
        using PodPair pair = PodPair.Create();
        var env = new FakeCaptureEnvironment();

        // No rules: the probe to the pod's own address is not captured.
        var err = new StringWriter();
        Assert.Equal(126, CaptureCommand.Install(["--skip-rule-apply", "--run-validation", "--probe-timeout", "2s", "--network-namespace", pair.Pod.Name], env, TextWriter.Null, err));
        Assert.Contains("validation failed", err.ToString(), StringComparison.Ordinal);

        // The test runs as UID 0, so UID 0 plays the proxy here (istio-validation runs as the proxy UID).
        err = new StringWriter();
        int rc = CaptureCommand.Install(["-u", "0", "-i", "*", "-b", "*", "--run-validation", "--network-namespace", pair.Pod.Name], env, TextWriter.Null, err);
        Assert.True(rc == 0, err.ToString());
    }

    private static (AddressFamily, IPAddress Any, IPAddress Pod, IPAddress Peer)[] Families() =>
    [
        (AddressFamily.InterNetwork, IPAddress.Any, PodPair.PodV4, PodPair.PeerV4),
        (AddressFamily.InterNetworkV6, IPAddress.IPv6Any, PodPair.PodV6, PodPair.PeerV6),
    ];
}
