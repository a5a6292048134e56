using System.Net;
using System.Net.Sockets;
using Sidecar.Native.Netns;
using Sidecar.Native.Sockets;
using Sidecar.Native.Tests.Support;

namespace Sidecar.Native.Tests;

/// <summary>
/// Privileged: a throwaway netns with an nft REDIRECT of tcp/9000 to :15001 (sidecar-style
/// outbound capture). Sockets are created inside the namespace via NetworkNamespace.Run (setns).
/// </summary>
public sealed class RedirectCaptureTests
{
    private const int CapturePort = 15001;
    private const int AppPort = 9000;
    private static readonly IPAddress AppV4 = IPAddress.Parse("127.0.0.2");

    // nft 1.0.6: numeric priority on the nat output hook ("dstnat" is rejected there), multi-line.
    // Output-hook REDIRECT rewrites the destination to 127.0.0.1 / ::1 (net/netfilter/nf_nat_redirect.c).
    private const string Ruleset = """
        table inet sidecar_test {
          chain output {
            type nat hook output priority -100; policy accept;
            meta mark 0x539 return
            ip daddr 127.0.0.2 tcp dport 9000 redirect to :15001
            ip6 daddr ::1 tcp dport 9000 redirect to :15001
          }
        }

        """;

    private static Socket Listen(IPEndPoint at, bool dualMode = false)
    {
        var s = new Socket(at.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (dualMode)
        {
            s.DualMode = true;
        }

        s.Bind(at);
        s.Listen();
        return s;
    }

    private static Socket NewClient(AddressFamily family, uint? mark = null)
    {
        var s = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        if (mark is { } m)
        {
            SocketMark.Set(s, m);
        }

        return s;
    }

    [RootFact]
    public async Task Ipv4_RedirectedConnection_ReportsOriginalDestination_MarkedSocketBypasses()
    {
        using TestNamespace ns = TestNamespace.Create();
        ns.LoadNft(Ruleset);
        using NetworkNamespace netns = NetworkNamespace.OpenNamed(ns.Name);
        (Socket capture, Socket app, Socket client, Socket marked) = netns.Run(() => (
            Listen(new IPEndPoint(IPAddress.Loopback, CapturePort)),
            Listen(new IPEndPoint(AppV4, AppPort)),
            NewClient(AddressFamily.InterNetwork),
            NewClient(AddressFamily.InterNetwork, SocketMark.ProxyBypass)));
        using (capture)
        using (app)
        using (client)
        using (marked)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));

            // Captured: the app dials 127.0.0.2:9000, the proxy's listener on :15001 gets it.
            await client.ConnectAsync(new IPEndPoint(AppV4, AppPort), cts.Token);
            using Socket proxied = await capture.AcceptAsync(cts.Token);
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, CapturePort), proxied.LocalEndPoint);
            Assert.True(OriginalDestination.TryGet(proxied, out IPEndPoint? original));
            Assert.Equal(new IPEndPoint(AppV4, AppPort), original);

            // Bypass: the proxy's own upstream socket carries SO_MARK 0x539 and reaches the real :9000.
            Assert.Equal(SocketMark.ProxyBypass, SocketMark.Get(marked));
            await marked.ConnectAsync(new IPEndPoint(AppV4, AppPort), cts.Token);
            using Socket direct = await app.AcceptAsync(cts.Token);
            Assert.Equal(new IPEndPoint(AppV4, AppPort), direct.LocalEndPoint);
            Assert.False(OriginalDestination.TryGet(direct, out IPEndPoint? none));
            Assert.Null(none);
            Assert.False(capture.Poll(TimeSpan.FromMilliseconds(200), SelectMode.SelectRead), "marked connection was captured");
        }
    }

    [RootFact]
    public async Task DualModeListener_ReportsIpv4AndIpv6OriginalDestinations()
    {
        using TestNamespace ns = TestNamespace.Create();
        ns.LoadNft(Ruleset);
        using NetworkNamespace netns = NetworkNamespace.OpenNamed(ns.Name);
        (Socket capture, Socket v4, Socket v6) = netns.Run(() => (
            Listen(new IPEndPoint(IPAddress.IPv6Any, CapturePort), dualMode: true),
            NewClient(AddressFamily.InterNetwork),
            NewClient(AddressFamily.InterNetworkV6)));
        using (capture)
        using (v4)
        using (v6)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));

            // IPv4 on an AF_INET6 socket: local address is ::ffff:127.0.0.1, queried with SOL_IP.
            await v4.ConnectAsync(new IPEndPoint(AppV4, AppPort), cts.Token);
            using (Socket accepted = await capture.AcceptAsync(cts.Token))
            {
                Assert.True(((IPEndPoint)accepted.LocalEndPoint!).Address.IsIPv4MappedToIPv6);
                Assert.True(OriginalDestination.TryGet(accepted, out IPEndPoint? original));
                Assert.Equal(new IPEndPoint(AppV4, AppPort), original);
            }

            // IPv6: SOL_IPV6 / IP6T_SO_ORIGINAL_DST, struct sockaddr_in6.
            await v6.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, AppPort), cts.Token);
            using (Socket accepted = await capture.AcceptAsync(cts.Token))
            {
                Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, CapturePort), accepted.LocalEndPoint);
                Assert.True(OriginalDestination.TryGet(accepted, out IPEndPoint? original));
                Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, AppPort), original);
            }
        }
    }

    [RootFact]
    public void NetworkNamespace_SocketsAreIsolated_AndCallerThreadStaysHome()
    {
        using TestNamespace ns = TestNamespace.Create();
        using NetworkNamespace netns = NetworkNamespace.OpenNamed(ns.Name);

        // Hold a port here, then bind the same port inside: that only succeeds in another namespace.
        using Socket outside = Listen(new IPEndPoint(IPAddress.Loopback, 0));
        var taken = (IPEndPoint)outside.LocalEndPoint!;
        using Socket inside = netns.Run(() => Listen(taken));
        Assert.Equal(taken, inside.LocalEndPoint);

        // The calling thread never left home: binding the held port here still fails.
        using var again = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        SocketException ex = Assert.ThrowsAny<SocketException>(() => again.Bind(taken));
        Assert.Equal(SocketError.AddressAlreadyInUse, ex.SocketErrorCode);
    }

    [RootFact]
    public void NetworkNamespace_ExceptionFromActionIsRethrown()
    {
        using TestNamespace ns = TestNamespace.Create();
        using NetworkNamespace netns = NetworkNamespace.OpenNamed(ns.Name);
        Assert.Throws<InvalidOperationException>(() => netns.Run<int>(() => throw new InvalidOperationException("boom")));
    }

    [Fact]
    public void NetworkNamespace_RejectsPathLikeNames()
    {
        Assert.Throws<ArgumentException>(() => NetworkNamespace.OpenNamed("../x"));
        Assert.Throws<ArgumentException>(() => NetworkNamespace.OpenNamed(".."));
    }
}
