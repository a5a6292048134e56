using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Sidecar.Core.Tls;

namespace Sidecar.Core.Grpc;

/// <summary>Why a call could not be prepared (before anything is sent).</summary>
public enum GrpcCallSetupError
{
    None = 0,
    /// <summary>The token file is missing or unreadable.</summary>
    TokenUnreadable,
    /// <summary>The token file is empty.</summary>
    TokenEmpty,
}

/// <summary>
/// One gRPC channel to a control-plane target, made by <see cref="GrpcChannelFactory"/>. The channel runs h2c over
/// streams our connect callback returns, so TLS is ours end to end: the server is checked against the target's roots
/// only (never the system store) and its SAN, and the client certificate is read from the source at each new connection.
/// </summary>
public sealed class GrpcConnection : IDisposable
{
    private readonly GrpcTargetOptions _options;
    private readonly EndPoint _endPoint;
    private readonly string _serverName;
    private readonly IReadOnlyList<SanMatcher> _serverMatchers;
    private readonly X509ChainPolicy? _chainPolicy;
    private readonly RemoteCertificateValidationCallback _validate;
    private readonly GrpcChannel _channel;
    private volatile GrpcTlsException? _lastTlsFailure;

    internal GrpcConnection(GrpcTargetOptions options, EndPoint endPoint, string host)
    {
        _options = options;
        _endPoint = endPoint;
        _serverName = string.IsNullOrEmpty(options.ServerName) ? host : options.ServerName;
        _serverMatchers = options.ServerSubjectAltNames.Count > 0 ? options.ServerSubjectAltNames : [SanMatcher.DnsExact(_serverName)];
        _chainPolicy = options.Roots is null ? null : PeerCertificateVerifier.MeshChainPolicy(options.Roots);
        _validate = ValidateServer;

        var handler = new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingTimeout,
            // Control-plane streams (xDS) are idle for minutes; the pings are what notice a dead peer there.
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = options.ConnectTimeout,
            EnableMultipleHttp2Connections = true,
            UseProxy = false,
            AllowAutoRedirect = false,
        };
        // "http": the handler speaks HTTP/2 with prior knowledge over whatever ConnectAsync returns (our SslStream or
        // the raw socket); gRPC requires HTTP/2 and the channel asks for exactly that version.
        _channel = GrpcChannel.ForAddress(new Uri("http://" + FormatAuthority(host, endPoint)), new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = options.MaxReceiveMessageBytes,
        });
    }

    public GrpcTargetOptions Options => _options;

    public CallInvoker Invoker => _channel.CreateCallInvoker();

    /// <summary>The SNI sent and the DNS SAN required by default.</summary>
    public string ServerName => _serverName;

    /// <summary>The last refused TLS handshake (cleared by a successful one), so callers can say exactly why a call failed.</summary>
    public GrpcTlsException? LastTlsFailure => _lastTlsFailure;

    /// <summary>
    /// Per-call options: deadline, cancellation and the headers pilot-agent sends (<c>authorization: Bearer</c> from the
    /// token file, read now; <c>ClusterID</c>).
    /// </summary>
    public GrpcCallSetupError TryCreateCallOptions(DateTime? deadline, CancellationToken cancellationToken, out CallOptions callOptions)
    {
        callOptions = default;
        var headers = new Metadata();
        if (!string.IsNullOrEmpty(_options.TokenFile))
        {
            string token;
            try
            {
                token = File.ReadAllText(_options.TokenFile).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return GrpcCallSetupError.TokenUnreadable;
            }
            if (token.Length == 0) return GrpcCallSetupError.TokenEmpty;
            headers.Add("authorization", "Bearer " + token);
        }
        if (!string.IsNullOrEmpty(_options.ClusterId)) headers.Add("ClusterID", _options.ClusterId);
        callOptions = new CallOptions(headers, deadline, cancellationToken);
        return GrpcCallSetupError.None;
    }

    /// <summary>A one-line reason for a failed call: the TLS refusal when that was the cause, else gRPC's status.</summary>
    public string Describe(RpcException exception)
    {
        for (Exception? inner = exception.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            if (inner is GrpcTlsException tls) return tls.Message;
        }
        return $"{exception.StatusCode}: {exception.Status.Detail}";
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        NetworkStream network;
        try
        {
            await socket.ConnectAsync(_endPoint, cancellationToken).ConfigureAwait(false);
            network = new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        if (_options.Plaintext) return network;

        var stream = new MeshTlsStream(network, leaveInnerStreamOpen: false);
        var result = await TlsHandshakes.RunAsync(stream, stream.AuthenticateAsClientAsync(BuildSslOptions(), cancellationToken)).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            var failure = new GrpcTlsException(_options.Address, _serverName, result.Failure);
            _lastTlsFailure = failure;
            throw failure;
        }
        _lastTlsFailure = null;
        return result.Stream!;
    }

    private SslClientAuthenticationOptions BuildSslOptions()
    {
        var certificate = _options.ClientCertificate?.Current;
        return new SslClientAuthenticationOptions
        {
            TargetHost = _serverName,
            // gRPC servers (grpc-go in istiod) refuse TLS connections that did not negotiate h2.
            ApplicationProtocols = [SslApplicationProtocol.Http2],
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateChainPolicy = _chainPolicy,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            ClientCertificateContext = certificate is null ? null : CertificateContextCache.Get(certificate),
            RemoteCertificateValidationCallback = _validate,
            AllowRenegotiation = false,
        };
    }

    private bool ValidateServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var failure = PeerCertificateVerifier.Verify(certificate, chain, errors, _serverMatchers, peerIsClient: false, out var peerId);
        if (sender is MeshTlsStream stream)
        {
            stream.PeerFailure = failure;
            stream.PeerId = peerId;
        }
        return failure == TlsPeerFailure.None;
    }

    private static string FormatAuthority(string host, EndPoint endPoint)
    {
        var port = endPoint switch
        {
            IPEndPoint ip => ip.Port,
            DnsEndPoint dns => dns.Port,
            _ => 0,
        };
        return (host.Contains(':') ? "[" + host + "]" : host) + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose() => _channel.Dispose();
}

/// <summary>A TLS handshake with the control plane was refused by our checks (or broke); carried inside gRPC's Unavailable.</summary>
public sealed class GrpcTlsException(string address, string serverName, TlsPeerFailure failure)
    : IOException($"TLS to {address} (expecting {serverName}) refused: {failure}")
{
    public TlsPeerFailure Failure { get; } = failure;
}
