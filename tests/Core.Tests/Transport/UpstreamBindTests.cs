using System.Net;
using System.Net.Sockets;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Transport;
using Xunit;

namespace Sidecar.Core.Tests.Transport;

/// <summary>upstream_bind_config: the upstream socket is bound to the cluster's source before connect.</summary>
public sealed class UpstreamBindTests
{
    private static async Task<(ConnectResult Result, IPAddress? SeenSource)> ConnectThrough(UpstreamBindModel? bind)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var target = (IPEndPoint)listener.LocalEndPoint!;
        var (result, socket) = await UpstreamConnector.ConnectSocketAsync(target, TimeSpan.FromSeconds(5), 0, bind, CancellationToken.None);
        using (socket)
        {
            if (socket is null)
            {
                return (result, null);
            }
            using Socket accepted = await listener.AcceptAsync();
            return (result, ((IPEndPoint)accepted.RemoteEndPoint!).Address);
        }
    }

    [Fact]
    public async Task SourceOfTheUpstreamFamilyIsBound()
    {
        var (result, seen) = await ConnectThrough(new UpstreamBindModel { SourceV4 = IPAddress.Parse("127.0.0.6"), SourceV6 = IPAddress.Parse("::6") });
        Assert.Equal(ConnectResult.Connected, result);
        Assert.Equal(IPAddress.Parse("127.0.0.6"), seen);
    }

    [Fact]
    public async Task WithoutASourceOfThatFamilyTheKernelChooses()
    {
        var (result, seen) = await ConnectThrough(new UpstreamBindModel { SourceV6 = IPAddress.Parse("::6") });
        Assert.Equal(ConnectResult.Connected, result);
        Assert.Equal(IPAddress.Loopback, seen);
    }

    [Fact]
    public async Task AnUnbindableSourceIsAConnectFailureNotAnException()
    {
        // TEST-NET-1 (RFC 5737) is not local: bind fails with EADDRNOTAVAIL.
        var (result, seen) = await ConnectThrough(new UpstreamBindModel { SourceV4 = IPAddress.Parse("192.0.2.1") });
        Assert.Equal(ConnectResult.Refused, result);
        Assert.Null(seen);
    }
}
