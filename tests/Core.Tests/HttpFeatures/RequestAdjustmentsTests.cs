using System.Text;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http;
using Sidecar.Core.Proxy;
using Xunit;

namespace Sidecar.Core.Tests.HttpFeatures;

/// <summary>The per-request decisions taken before and after routing.</summary>
public sealed class RequestAdjustmentsTests
{
    private sealed class View(string method, string path, params (string Name, string Value)[] headers) : IRequestView
    {
        public ReadOnlySpan<byte> Authority => "svc"u8;
        public ReadOnlySpan<byte> PathAndQuery => Encoding.ASCII.GetBytes(path);
        public ReadOnlySpan<byte> Method => Encoding.ASCII.GetBytes(method);
        public int HeaderCount => headers.Length;
        public ReadOnlySpan<byte> GetHeaderName(int index) => Encoding.ASCII.GetBytes(headers[index].Name);
        public ReadOnlySpan<byte> GetHeaderValue(int index) => Encoding.ASCII.GetBytes(headers[index].Value);
    }

    private static readonly PathNormalization All = new(true, true, EscapedSlashesAction.UnescapeAndForward);

    [Fact]
    public void ConnectTargetsAreNotPaths()
    {
        using var a = new RequestAdjustments();
        Assert.Equal(PathNormalizeResult.Unchanged, a.Begin(new View("CONNECT", "example.com:443"), All));
        Assert.Equal("example.com:443", Encoding.ASCII.GetString(a.PathAndQuery("example.com:443"u8)));
        // Extended CONNECT (RFC 8441) carries a real :path, which is normalized.
        Assert.Equal(PathNormalizeResult.Rewritten, a.Begin(new View("CONNECT", "/chat/../ws"), All));
        Assert.Equal("/ws", Encoding.ASCII.GetString(a.PathAndQuery("/chat/../ws"u8)));
    }

    [Fact]
    public void GrpcDetectionAndDeadline()
    {
        using var a = new RequestAdjustments();
        var action = new RouteActionModel { Cluster = "c", Timeout = TimeSpan.Zero, GrpcTimeout = new GrpcTimeoutRule(GrpcTimeoutKind.StreamDuration, TimeSpan.Zero, TimeSpan.Zero) };
        var grpc = new View("POST", "/pkg.S/M", ("Content-Type", "application/grpc+proto"), ("grpc-timeout", "2S"));
        a.Begin(grpc, PathNormalization.None);
        Assert.True(a.IsGrpc);
        a.ResolveDeadline(action, grpc);
        Assert.Equal(TimeSpan.FromSeconds(2), a.Deadline);
        Assert.True(a.DeadlineIsStreamDuration);
        Assert.Equal(TimeSpan.Zero, a.ExpectedTimeout(action)); // the route's own timeout (none) is what x-envoy-expected-rq-timeout-ms says

        var plain = new View("GET", "/x");
        a.Begin(plain, PathNormalization.None);
        Assert.False(a.IsGrpc);
        a.ResolveDeadline(action, plain);
        Assert.Equal(TimeSpan.Zero, a.Deadline);
        Assert.False(a.DeadlineIsStreamDuration);
    }
}
