using System.IO.Pipelines;
using Sidecar.Core.Tests.Tls;
using Sidecar.Core.Tls;
using Sidecar.Core.Transport;
using Xunit;

namespace Sidecar.Core.Tests.Transport;

public sealed class DuplexPipeStreamTests
{
    /// <summary>Two pipes crossed: what one side writes, the other reads (an in-memory connection).</summary>
    private static (IDuplexPipe A, IDuplexPipe B) CrossedPipes()
    {
        var ab = new Pipe();
        var ba = new Pipe();
        return (new Duplex(ba.Reader, ab.Writer), new Duplex(ab.Reader, ba.Writer));
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    [Fact]
    public async Task BytesCrossBothWaysAndEndOfStreamIsZero()
    {
        var (a, b) = CrossedPipes();
        var sa = new DuplexPipeStream(a);
        var sb = new DuplexPipeStream(b);
        await sa.WriteAsync("hello"u8.ToArray());
        byte[] buffer = new byte[3];
        Assert.Equal(3, await sb.ReadAsync(buffer));
        Assert.Equal("hel"u8.ToArray(), buffer);
        Assert.Equal(2, await sb.ReadAsync(buffer));
        await a.Output.CompleteAsync();
        Assert.Equal(0, await sb.ReadAsync(buffer));
    }

    [Fact]
    public async Task ZeroByteReadDoesNotHideBufferedBytes()
    {
        // SslStream waits with a zero-byte read before every real one; the bytes must still be there after it.
        var (a, b) = CrossedPipes();
        var sb = new DuplexPipeStream(b);
        await new DuplexPipeStream(a).WriteAsync("abc"u8.ToArray());
        Assert.Equal(0, await sb.ReadAsync(Memory<byte>.Empty));
        byte[] buffer = new byte[8];
        Task<int> read = sb.ReadAsync(buffer).AsTask();
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(5000)));
        Assert.Equal(3, await read);
    }

    [Fact]
    public async Task MutualTlsHandshakeAndDataOverPipes()
    {
        var (a, b) = CrossedPipes();
        var server = new DownstreamTlsContext(new DownstreamTlsOptions(), new Sidecar.Core.Identity.StaticCertificateSource(TlsTestPeers.Server.Value));
        var client = new UpstreamTlsContext(new UpstreamTlsOptions { ServerName = "server.mounted-certs.svc" }, new Sidecar.Core.Identity.StaticCertificateSource(TlsTestPeers.Client.Value));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var serverTask = server.AuthenticateAsync(new DuplexPipeStream(a), leaveInnerStreamOpen: true, timeout.Token).AsTask();
        var clientTask = client.AuthenticateAsync(new DuplexPipeStream(b), leaveInnerStreamOpen: true, timeout.Token).AsTask();
        TlsHandshakeResult s = await serverTask;
        TlsHandshakeResult c = await clientTask;
        Assert.Equal(TlsPeerFailure.None, s.Failure);
        Assert.Equal(TlsPeerFailure.None, c.Failure);
        Assert.Equal(TlsTestPeers.ClientId, s.Stream!.PeerId.ToString());
        await c.Stream!.WriteAsync("ping"u8.ToArray());
        byte[] buffer = new byte[16];
        int n = await s.Stream.ReadAsync(buffer);
        Assert.Equal("ping", System.Text.Encoding.ASCII.GetString(buffer, 0, n));
    }
}
