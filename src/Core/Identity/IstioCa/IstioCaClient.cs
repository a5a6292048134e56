using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Sidecar.Core.Grpc;
using Sidecar.Core.Protobuf;
using Sidecar.Core.Tls;

namespace Sidecar.Core.Identity.IstioCa;

/// <summary>The outcome of one fetch: a validated certificate, or the error and a one-line detail for the log.</summary>
public readonly record struct IstioCaResult(WorkloadCertificate? Certificate, IstioCaError Error, string Detail)
{
    public bool Succeeded => Error == IstioCaError.None && Certificate is not null;

    internal static IstioCaResult Fail(IstioCaError error, string detail) => new(null, error, detail);
}

/// <summary>
/// One <c>CreateCertificate</c> round trip (istio/api <c>security/v1alpha1/ca.proto</c>): new key, CSR for our SPIFFE ID,
/// call over gRPC/TLS with the Bearer token and ClusterID, then the answer is checked before anyone may use it — it must
/// load with our key (<see cref="WorkloadCertificateLoader"/>), name our SPIFFE ID and chain to the root-cert file.
/// The root file is re-read per fetch (the ConfigMap rotates with the mesh root); the channel is rebuilt when it changes.
/// </summary>
public sealed class IstioCaClient : IDisposable
{
    private static readonly Method<byte[], byte[]> CreateCertificate = GrpcBytes.Unary(IstioCertificateMessages.Service, IstioCertificateMessages.Method);

    private readonly IstioCaOptions _options;
    private readonly ICertificateSource? _clientCertificate;
    private readonly TimeProvider _time;
    private GrpcConnection? _connection;
    private string? _connectionRootPem;

    /// <param name="clientCertificate">Presented to istiod for mTLS when set (and holding a certificate); the token is sent regardless.</param>
    public IstioCaClient(IstioCaOptions options, ICertificateSource? clientCertificate = null, TimeProvider? time = null)
    {
        _options = options;
        _clientCertificate = clientCertificate;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Fetches one certificate. Never throws for CA, network or content problems; cancellation is reported as CallFailed.</summary>
    public async Task<IstioCaResult> FetchAsync(CancellationToken cancellationToken)
    {
        string rootPem;
        try
        {
            rootPem = await File.ReadAllTextAsync(_options.RootCertFile, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return IstioCaResult.Fail(IstioCaError.RootFileUnreadable, $"{_options.RootCertFile}: {ex.Message}");
        }
        if (TrustBundle.TryParse(rootPem, out var meshRoots) != TrustBundleError.None)
        {
            return IstioCaResult.Fail(IstioCaError.RootInvalid, $"{_options.RootCertFile} holds no valid root certificate");
        }
        var connectError = Connection(rootPem, meshRoots!, out var connection);
        if (connectError != IstioCaError.None) return IstioCaResult.Fail(connectError, $"CA_ADDR '{_options.Address}' is not host:port");

        // Token first: without one there is no point generating a key. The gRPC deadline is transport time (real clock),
        // not the injectable one used for certificate validity.
        var setup = connection!.TryCreateCallOptions(DateTime.UtcNow + _options.CallTimeout, cancellationToken, out var callOptions);
        if (setup != GrpcCallSetupError.None)
        {
            return IstioCaResult.Fail(IstioCaError.TokenUnreadable, $"token file {_options.TokenFile}: {setup}");
        }
        using var csr = CertificateSigningRequest.Create(_options.Identity, _options.KeyAlgorithm);
        var request = IstioCertificateMessages.EncodeRequest(csr.Pem, (long)_options.CertificateTtl.TotalSeconds, _options.CertSigner);

        byte[] response;
        try
        {
            using var call = connection.Invoker.AsyncUnaryCall(CreateCertificate, null, callOptions, request);
            response = await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            var tls = connection.TlsFailureOf(ex);
            return tls is not null
                ? IstioCaResult.Fail(IstioCaError.ServerTlsRefused, tls.Message)
                : IstioCaResult.Fail(IstioCaError.CallFailed, $"{_options.Address}: {connection.Describe(ex)}");
        }
        catch (OperationCanceledException)
        {
            return IstioCaResult.Fail(IstioCaError.CallFailed, $"{_options.Address}: cancelled");
        }
        return Validate(response, csr, meshRoots!, rootPem);
    }

    private IstioCaResult Validate(byte[] response, CertificateSigningRequest csr, TrustBundle meshRoots, string rootPem)
    {
        var decodeError = IstioCertificateMessages.TryDecodeResponse(response, out var chain);
        if (decodeError != ProtoError.None) return IstioCaResult.Fail(IstioCaError.ResponseMalformed, $"IstioCertificateResponse: {decodeError}");
        if (chain.Count < 2) return IstioCaResult.Fail(IstioCaError.ChainTooShort, $"cert_chain has {chain.Count} element(s), need leaf and root");

        // The trust bundle peers are checked against is the mesh root file plus the CA's own root (the last element, the
        // ROOTCA pilot-agent serves); they are normally the same certificate, which then appears once.
        var chainPem = string.Join('\n', chain);
        var now = _time.GetUtcNow();
        var bundlePem = IsOneOf(chain[^1], meshRoots) ? rootPem : rootPem + "\n" + chain[^1];
        var loadError = WorkloadCertificateLoader.TryLoad(chainPem, csr.KeyPem(), bundlePem, now, out var certificate);
        if (loadError != CertificateLoadError.None) return IstioCaResult.Fail(IstioCaError.CertificateRefused, loadError.ToString());
        if (certificate!.SpiffeId != _options.Identity)
        {
            var got = certificate.SpiffeId.IsEmpty ? "no SPIFFE ID" : certificate.SpiffeId.ToString();
            return IstioCaResult.Fail(IstioCaError.WrongIdentity, $"asked for {_options.Identity}, got {got}");
        }
        var chainFailure = VerifyChain(certificate, meshRoots, now);
        if (chainFailure != TlsPeerFailure.None)
        {
            return IstioCaResult.Fail(IstioCaError.UntrustedChain, $"issued chain does not verify against {_options.RootCertFile}: {chainFailure}");
        }
        return new IstioCaResult(certificate, IstioCaError.None, "");
    }

    /// <summary>RFC 5280 §6 path validation of the issued leaf to a root of the mesh root file (not the CA's own claim).</summary>
    private static TlsPeerFailure VerifyChain(WorkloadCertificate certificate, TrustBundle meshRoots, DateTimeOffset now)
    {
        using var chain = new X509Chain { ChainPolicy = PeerCertificateVerifier.MeshChainPolicy(meshRoots) };
        chain.ChainPolicy.ExtraStore.AddRange(certificate.Intermediates);
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        try
        {
            return chain.Build(certificate.Leaf) ? TlsPeerFailure.None : PeerCertificateVerifier.Classify(chain);
        }
        finally
        {
            foreach (var element in chain.ChainElements) element.Certificate.Dispose();
        }
    }

    private static bool IsOneOf(string certificatePem, TrustBundle roots)
    {
        var blocks = PemBlocks.Read(certificatePem, out _);
        if (blocks.Count != 1) return false;
        foreach (var root in roots.Roots)
        {
            if (root.RawDataMemory.Span.SequenceEqual(blocks[0].Der)) return true;
        }
        return false;
    }

    private IstioCaError Connection(string rootPem, TrustBundle roots, out GrpcConnection? connection)
    {
        if (_connection is not null && string.Equals(rootPem, _connectionRootPem, StringComparison.Ordinal))
        {
            connection = _connection;
            return IstioCaError.None;
        }
        var target = new GrpcTargetOptions(_options.Address)
        {
            Plaintext = _options.Plaintext,
            Roots = roots,
            ServerName = _options.IstiodSan,
            ClientCertificate = _clientCertificate,
            TokenFile = _options.TokenFile,
            ClusterId = _options.ClusterId,
            ConnectTimeout = _options.CallTimeout,
        };
        if (GrpcChannelFactory.TryCreate(target, out connection) != GrpcTargetError.None) return IstioCaError.AddressInvalid;
        _connection?.Dispose();
        _connection = connection;
        _connectionRootPem = rootPem;
        return IstioCaError.None;
    }

    public void Dispose() => _connection?.Dispose();
}
