using System.Text;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http;
using Xunit;

namespace Sidecar.Core.Tests.HttpFeatures;

/// <summary>grpc-timeout parsing (gRPC over HTTP/2 "Requests") and the route deadline Envoy derives from it.</summary>
public sealed class GrpcTimeoutTests
{
    [Theory]
    [InlineData("1H", 3_600_000)]
    [InlineData("2M", 120_000)]
    [InlineData("3S", 3000)]
    [InlineData("250m", 250)]
    [InlineData("1500u", 2)] // rounded up to whole milliseconds
    [InlineData("1000u", 1)]
    [InlineData("1n", 1)]
    [InlineData("0m", 0)]
    [InlineData("99999999S", 99_999_999_000)]
    public void ParsesEachUnit(string value, long milliseconds)
    {
        Assert.True(GrpcTimeout.TryParse(Encoding.ASCII.GetBytes(value), out TimeSpan t));
        Assert.Equal(milliseconds, (long)t.TotalMilliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("10s")]
    [InlineData("10x")]
    [InlineData("-1S")]
    [InlineData("+1S")]
    [InlineData("1 S")]
    [InlineData("123456789S")] // nine digits
    public void MalformedValuesAreIgnored(string value)
    {
        Assert.False(GrpcTimeout.TryParse(Encoding.ASCII.GetBytes(value), out _));
    }

    [Fact]
    public void ParsingAllocatesNothing()
    {
        byte[] v = "12345m"u8.ToArray();
        GrpcTimeout.TryParse(v, out _);
        long total = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            if (GrpcTimeout.TryParse(v, out TimeSpan t)) total += t.Ticks;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(1000 * TimeSpan.FromMilliseconds(12345).Ticks, total);
    }

    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/grpc;charset=utf-8", true)]
    [InlineData("application/grpc-web", false)]
    [InlineData("application/json", false)]
    public void GrpcContentType(string contentType, bool expected)
    {
        Assert.Equal(expected, GrpcTimeout.IsGrpcContentType(Encoding.ASCII.GetBytes(contentType)));
    }

    private static RouteActionModel Route(GrpcTimeoutKind kind, double maxMs, double offsetMs, double timeoutMs = 15000) => new()
    {
        Cluster = "c",
        Timeout = TimeSpan.FromMilliseconds(timeoutMs),
        GrpcTimeout = new GrpcTimeoutRule(kind, TimeSpan.FromMilliseconds(maxMs), TimeSpan.FromMilliseconds(offsetMs)),
    };

    private static (double Ms, bool Stream) Deadline(RouteActionModel a, bool grpc, string? header)
    {
        TimeSpan t = GrpcTimeout.Deadline(a, grpc, header is not null, header is null ? default : Encoding.ASCII.GetBytes(header), out bool stream);
        return (t.TotalMilliseconds, stream);
    }

    [Fact]
    public void StreamDurationUsesTheHeaderCappedThenOffset()
    {
        // Istio's default: grpc_timeout_header_max 0s (no cap), route timeout 0s (none).
        Assert.Equal((300, true), Deadline(Route(GrpcTimeoutKind.StreamDuration, 0, 0, timeoutMs: 0), grpc: true, "300m"));
        Assert.Equal((1000, true), Deadline(Route(GrpcTimeoutKind.StreamDuration, 1000, 0, timeoutMs: 0), grpc: true, "5S"));
        Assert.Equal((900, true), Deadline(Route(GrpcTimeoutKind.StreamDuration, 1000, 100, timeoutMs: 0), grpc: true, "5S"));
        Assert.Equal((1, true), Deadline(Route(GrpcTimeoutKind.StreamDuration, 0, 500, timeoutMs: 0), grpc: true, "200m")); // budget spent: expires at once
        // The route timeout still applies when it is shorter; without a (valid) header only the route timeout counts.
        Assert.Equal((200, false), Deadline(Route(GrpcTimeoutKind.StreamDuration, 0, 0, timeoutMs: 200), grpc: true, "5S"));
        Assert.Equal((15000, false), Deadline(Route(GrpcTimeoutKind.StreamDuration, 0, 0), grpc: true, null));
        Assert.Equal((15000, false), Deadline(Route(GrpcTimeoutKind.StreamDuration, 0, 0), grpc: true, "5 S"));
    }

    [Fact]
    public void MaxGrpcTimeoutReplacesTheRouteTimeoutForGrpcOnly()
    {
        Assert.Equal((300, false), Deadline(Route(GrpcTimeoutKind.RouteTimeout, 0, 0), grpc: true, "300m"));
        Assert.Equal((1000, false), Deadline(Route(GrpcTimeoutKind.RouteTimeout, 1000, 0), grpc: true, "5S"));
        Assert.Equal((4900, false), Deadline(Route(GrpcTimeoutKind.RouteTimeout, 0, 100), grpc: true, "5S"));
        Assert.Equal((50, false), Deadline(Route(GrpcTimeoutKind.RouteTimeout, 0, 100), grpc: true, "50m")); // offset would leave nothing: not applied
        Assert.Equal((0, false), Deadline(Route(GrpcTimeoutKind.RouteTimeout, 0, 0), grpc: true, null)); // no header, no cap: none
        Assert.Equal((1000, false), Deadline(Route(GrpcTimeoutKind.RouteTimeout, 1000, 0), grpc: true, null));
        Assert.Equal((15000, false), Deadline(Route(GrpcTimeoutKind.RouteTimeout, 0, 0), grpc: false, "300m"));
    }
}
