using System.Net;
using System.Net.Sockets;
using Sidecar.Native.Netns;
using Sidecar.Native.Sockets;
using Sidecar.Native.Tests.Support;

namespace Sidecar.Native.Tests.Nftables;

/// <summary>
/// A "pod" namespace and a "peer" namespace joined by a veth pair, dual-stack
/// (10.213.7.1 / fd00:213:7::1 in the pod, .2 / ::2 on the peer). Capture rules go into the pod.
/// </summary>
internal sealed class PodPair : IDisposable
{
    public static readonly IPAddress PodV4 = IPAddress.Parse("10.213.7.1");
    public static readonly IPAddress PeerV4 = IPAddress.Parse("10.213.7.2");
    public static readonly IPAddress PodV6 = IPAddress.Parse("fd00:213:7::1");
    public static readonly IPAddress PeerV6 = IPAddress.Parse("fd00:213:7::2");

    private PodPair(TestNamespace pod, TestNamespace peer)
    {
        Pod = pod;
        Peer = peer;
        PodNs = NetworkNamespace.OpenNamed(pod.Name);
        PeerNs = NetworkNamespace.OpenNamed(peer.Name);
    }

    public TestNamespace Pod { get; }
    public TestNamespace Peer { get; }
    public NetworkNamespace PodNs { get; }
    public NetworkNamespace PeerNs { get; }

    public static PodPair Create()
    {
        TestNamespace pod = TestNamespace.Create();
        TestNamespace peer;
        try
        {
            peer = TestNamespace.Create();
        }
        catch
        {
            pod.Dispose();
            throw;
        }

        var pair = new PodPair(pod, peer);
        try
        {
            Shell.Run("ip", "link", "add", "eth0", "netns", pod.Name, "type", "veth", "peer", "name", "eth0", "netns", peer.Name);
            Configure(pod.Name, PodV4, PodV6);
            Configure(peer.Name, PeerV4, PeerV6);
        }
        catch
        {
            pair.Dispose();
            throw;
        }

        return pair;
    }

    private static void Configure(string ns, IPAddress v4, IPAddress v6)
    {
        Shell.Run("ip", "-n", ns, "addr", "add", v4 + "/24", "dev", "eth0");
        Shell.Run("ip", "-n", ns, "addr", "add", v6 + "/64", "dev", "eth0", "nodad");
        Shell.Run("ip", "-n", ns, "link", "set", "eth0", "up");
    }

    public static Socket Listen(IPEndPoint at)
    {
        var s = new Socket(at.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(at);
        s.Listen();
        return s;
    }

    public static Socket Client(AddressFamily family, uint? mark = null)
    {
        var s = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        if (mark is { } m)
        {
            SocketMark.Set(s, m);
        }

        return s;
    }

    /// <summary>Connects and returns the connection <paramref name="listener"/> accepted plus its original destination (null if not NATed).</summary>
    public static async Task<IPEndPoint?> ConnectAndAccept(Socket client, IPEndPoint to, Socket listener)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync(to, cts.Token);
        using Socket accepted = await listener.AcceptAsync(cts.Token);
        return OriginalDestination.TryGet(accepted, out IPEndPoint? original) ? original : null;
    }

    public void Dispose()
    {
        PodNs.Dispose();
        PeerNs.Dispose();
        Pod.Dispose();
        Peer.Dispose();
    }
}
