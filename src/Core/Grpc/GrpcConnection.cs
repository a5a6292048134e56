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
/// One gRPC channel to a control-plane target, made by <see cref="GrpcChannelFactory"/>. TLS is SocketsHttpHandler's
/// (so <c>:scheme</c> is https, which servers check), with our policy: the server's chain is verified against the
/// target's roots only (never the system store) and its SAN matched; the client certificate is read from the source at
/// each new connection. The connect callback dials the parsed address, so the URI can carry the server name (SNI and
/// <c>:authority</c>) even when the address is an IP.
/// </summary>
public sealed class GrpcConnection : IDisposable
{
    private readonly GrpcTargetOptions _options;
    private readonly EndPoint _endPoint;
    private readonly string _serverName;
    private readonly IReadOnlyList<SanMatcher> _serverMatchers;
    private readonly GrpcChannel _channel;
    private volatile GrpcTlsException? _lastTlsFailure;

    internal GrpcConnection(GrpcTargetOptions options, EndPoint endPoint, string host, int port)
    {
        _options = options;
        _endPoint = endPoint;
        _serverName = string.IsNullOrEmpty(options.ServerName) ? host : options.ServerName;
        _serverMatchers = options.ServerSubjectAltNames.Count > 0 ? options.ServerSubjectAltNames : [SanMatcher.DnsExact(_serverName)];

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
        if (!options.Plaintext)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateChainPolicy = PeerCertificateVerifier.MeshChainPolicy(options.Roots!),
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = ValidateServer,
                LocalCertificateSelectionCallback = SelectClientCertificate,
                AllowRenegotiation = false,
            };
        }
        // Plaintext is h2c with prior knowledge: the channel asks for exactly HTTP/2, which "http" then means.
        var scheme = options.Plaintext ? "http://" : "https://";
        _channel = GrpcChannel.ForAddress(new Uri(scheme + FormatAuthority(_serverName, port)), new GrpcChannelOptions
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

    /// <summary>The last TLS refusal by our checks (cleared when a new connection starts), for diagnostics.</summary>
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
        // gRPC metadata keys are lower-cased on the wire (HTTP/2 §8.2.1 forbids upper case); istiod reads "clusterid".
        if (!string.IsNullOrEmpty(_options.ClusterId)) headers.Add("ClusterID", _options.ClusterId);
        callOptions = new CallOptions(headers, deadline, cancellationToken);
        return GrpcCallSetupError.None;
    }

    /// <summary>A one-line reason for a failed call: the TLS refusal when that was the cause, else gRPC's status.</summary>
    public string Describe(RpcException exception) =>
        TlsFailureOf(exception)?.Message ?? $"{exception.StatusCode}: {exception.Status.Detail}";

    /// <summary>The TLS refusal behind a failed call (gRPC reports it as Unavailable with the HTTP error inside), or null.</summary>
    public GrpcTlsException? TlsFailureOf(RpcException exception)
    {
        for (Exception? inner = exception.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError })
            {
                // Our callback recorded the precise reason; without one the handshake itself broke (not TLS, reset, version).
                return _lastTlsFailure ?? new GrpcTlsException(_options.Address, _serverName, TlsPeerFailure.HandshakeFailed);
            }
        }
        return null;
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        _lastTlsFailure = null;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(_endPoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private X509Certificate? SelectClientCertificate(object sender, string targetHost, X509CertificateCollection localCertificates, X509Certificate? remoteCertificate, string[] acceptableIssuers) =>
        _options.ClientCertificate?.Current?.Leaf;

    private bool ValidateServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var failure = PeerCertificateVerifier.Verify(certificate, chain, errors, _serverMatchers, peerIsClient: false, out _);
        if (failure == TlsPeerFailure.None) return true;
        _lastTlsFailure = new GrpcTlsException(_options.Address, _serverName, failure);
        return false;
    }

    private static string FormatAuthority(string host, int port) =>
        (host.Contains(':') ? "[" + host + "]" : host) + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose() => _channel.Dispose();
}

/// <summary>A TLS handshake with the control plane was refused by our checks (or broke); carried inside gRPC's Unavailable.</summary>
public sealed class GrpcTlsException(string address, string serverName, TlsPeerFailure failure)
    : IOException($"TLS to {address} (expecting {serverName}) refused: {failure}")
{
    public TlsPeerFailure Failure { get; } = failure;
}
