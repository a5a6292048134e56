using System.Net;
using System.Runtime.InteropServices;
using Sidecar.Native.Sockets;

namespace Sidecar.Native.Tests;

public sealed class SockaddrDecoderTests
{
    // Builds bytes the way the kernel lays them out: family and scope id in host order, port big endian.
    private static byte[] SockaddrIn(byte[] addr, ushort port)
    {
        var b = new byte[SockaddrDecoder.SockaddrInSize];
        ushort family = SockaddrDecoder.AfInet;
        MemoryMarshal.Write(b, in family);
        b[2] = (byte)(port >> 8);
        b[3] = (byte)port;
        addr.CopyTo(b, 4);
        return b;
    }

    private static byte[] SockaddrIn6(byte[] addr, ushort port, uint scopeId)
    {
        var b = new byte[SockaddrDecoder.SockaddrIn6Size];
        ushort family = SockaddrDecoder.AfInet6;
        MemoryMarshal.Write(b, in family);
        b[2] = (byte)(port >> 8);
        b[3] = (byte)port;
        b[4] = 0xde; // flowinfo must be ignored
        addr.CopyTo(b, 8);
        MemoryMarshal.Write(b.AsSpan(24), in scopeId);
        return b;
    }

    [Fact]
    public void Ipv4_DecodesAddressAndNetworkOrderPort()
    {
        Assert.True(SockaddrDecoder.TryDecode(SockaddrIn([10, 213, 0, 2], 8080), out IPEndPoint? ep));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.213.0.2"), 8080), ep);
    }

    [Fact]
    public void Ipv4_HighPortIsUnsigned()
    {
        Assert.True(SockaddrDecoder.TryDecode(SockaddrIn([127, 0, 0, 2], 65535), out IPEndPoint? ep));
        Assert.Equal(65535, ep!.Port);
    }

    [Fact]
    public void Ipv6_DecodesAddressPortAndScope()
    {
        IPAddress addr = IPAddress.Parse("fe80::1");
        Assert.True(SockaddrDecoder.TryDecode(SockaddrIn6(addr.GetAddressBytes(), 9000, 3), out IPEndPoint? ep));
        Assert.Equal(9000, ep!.Port);
        Assert.Equal(3, ep.Address.ScopeId);
        Assert.Equal("fe80::1%3", ep.Address.ToString());
    }

    [Fact]
    public void Ipv6_Loopback()
    {
        Assert.True(SockaddrDecoder.TryDecode(SockaddrIn6(IPAddress.IPv6Loopback.GetAddressBytes(), 15001, 0), out IPEndPoint? ep));
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 15001), ep);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void Ipv4_ShortBuffer_False(int length)
    {
        Assert.False(SockaddrDecoder.TryDecode(SockaddrIn([1, 2, 3, 4], 1).AsSpan(0, length), out IPEndPoint? ep));
        Assert.Null(ep);
    }

    [Fact]
    public void Ipv6_ShortBuffer_False()
    {
        byte[] b = SockaddrIn6(IPAddress.IPv6Loopback.GetAddressBytes(), 1, 0);
        Assert.False(SockaddrDecoder.TryDecode(b.AsSpan(0, SockaddrDecoder.SockaddrIn6Size - 1), out _));
    }

    [Fact]
    public void UnknownFamily_False()
    {
        byte[] b = SockaddrIn([1, 2, 3, 4], 1);
        b[0] = 1; // AF_UNIX
        b[1] = 0;
        Assert.False(SockaddrDecoder.TryDecode(b, out IPEndPoint? ep));
        Assert.Null(ep);
    }
}
