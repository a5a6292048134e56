using System.Net;
using System.Net.Sockets;
using Sidecar.Core.Identity;
using Sidecar.Core.Tests.Identity;
using Sidecar.Core.Tls;

namespace Sidecar.Core.Tests.Tls;

/// <summary>Loopback socket pairs and the Istio test PKI as certificate sources, for real in-process handshakes.</summary>
internal static class TlsTestPeers
{
    public static readonly Lazy<WorkloadCertificate> Server = new(() => TestPki.FromDirectory(IdentityTestData.MeshPair("mountedcerts-server")));
    public static readonly Lazy<WorkloadCertificate> Client = new(() => TestPki.FromDirectory(IdentityTestData.MeshPair("mountedcerts-client")));

    public const string ServerId = "spiffe://cluster.local/ns/mounted-certs/sa/server";
    public const string ClientId = "spiffe://cluster.local/ns/mounted-certs/sa/client";

    /// <summary>A connected TCP pair over 127.0.0.1 (a real kernel socket, as listeners will use).</summary>
    public static async Task<(NetworkStream ServerSide, NetworkStream ClientSide)> ConnectedPairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accept = listener.AcceptSocketAsync();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        var server = await accept;
        server.NoDelay = true;
        return (new NetworkStream(server, ownsSocket: true), new NetworkStream(client, ownsSocket: true));
    }

    /// <summary>Both handshakes at once (TLS 1.3 lets a client finish before the server has judged its certificate).</summary>
    public static async Task<(TlsHandshakeResult Server, TlsHandshakeResult Client)> HandshakeAsync(DownstreamTlsContext server, UpstreamTlsContext client)
    {
        var (s, c) = await ConnectedPairAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var serverTask = server.AuthenticateAsync(s, leaveInnerStreamOpen: false, timeout.Token).AsTask();
        var clientTask = client.AuthenticateAsync(c, leaveInnerStreamOpen: false, timeout.Token).AsTask();
        // When one side refuses, the other sees the alert or the close; neither may hang.
        var serverResult = await serverTask;
        if (!serverResult.Succeeded) c.Dispose();
        var clientResult = await clientTask;
        if (!clientResult.Succeeded && serverResult.Stream is not null) await serverResult.Stream.DisposeAsync();
        return (serverResult, clientResult);
    }

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
