using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sidecar.Core.Grpc;
using Sidecar.Core.Identity;
using Sidecar.Core.Identity.IstioCa;
using Sidecar.Core.Protobuf;
using Xunit;

namespace Sidecar.Core.Tests.Identity.IstioCa;

/// <summary>The parts without a network: message codec, CSR, env options, Go durations, rotation times, addresses.</summary>
public sealed class IstioCaPiecesTests
{
    [Fact]
    public void RequestEncodingMatchesHandComputedBytes()
    {
        var bytes = IstioCertificateMessages.EncodeRequest("AB", 86400, "s");
        // csr=1 "AB"; validity_duration=3 varint 86400 (0x80 0xA3 0x05); metadata=4 { fields=1 { key=1 "CertSigner", value=2 { string_value=3 "s" } } }
        byte[] expected =
        [
            0x0A, 2, (byte)'A', (byte)'B',
            0x18, 0x80, 0xA3, 0x05,
            0x22, 19, 0x0A, 17, 0x0A, 10, .. "CertSigner"u8, 0x12, 3, 0x1A, 1, (byte)'s',
        ];
        Assert.Equal(expected, bytes);
        Assert.Equal([0x0A, 1, (byte)'x'], IstioCertificateMessages.EncodeRequest("x", 0, null));
    }

    [Fact]
    public void ResponseDecodingKeepsOrderAndSkipsUnknownFields()
    {
        byte[] message = [0x0A, 1, (byte)'a', 0x10, 5, 0x0A, 2, (byte)'b', (byte)'c', 0x1A, 0];
        Assert.Equal(ProtoError.None, IstioCertificateMessages.TryDecodeResponse(message, out var chain));
        Assert.Equal(["a", "bc"], chain);
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 5, 1 })] // length past the end
    [InlineData(new byte[] { 0x08, 1 })] // cert_chain as a varint
    [InlineData(new byte[] { 0x0A, 2, 0xC3, 0x28 })] // invalid UTF-8
    [InlineData(new byte[] { 0x0A })] // truncated
    public void MalformedResponsesAreErrorsNotExceptions(byte[] message)
    {
        Assert.NotEqual(ProtoError.None, IstioCertificateMessages.TryDecodeResponse(message, out _));
    }

    [Theory]
    [InlineData(WorkloadKeyAlgorithm.Rsa2048)]
    [InlineData(WorkloadKeyAlgorithm.EcdsaP256)]
    public void CsrCarriesTheSpiffeUriAndAKeyOfTheRightType(WorkloadKeyAlgorithm algorithm)
    {
        var identity = CaTestBed.Identity("ns1", "sa1");
        using var csr = CertificateSigningRequest.Create(identity, algorithm);
        Assert.StartsWith("-----BEGIN CERTIFICATE REQUEST-----", csr.Pem, StringComparison.Ordinal);
        var loaded = CertificateRequest.LoadSigningRequestPem(csr.Pem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        var san = loaded.CertificateExtensions.Single(e => e.Oid!.Value == "2.5.29.17");
        Assert.True(san.Critical);
        Assert.Equal(["spiffe://cluster.local/ns/ns1/sa/sa1"], Sidecar.TestPeers.IstioCa.TestCaPki.ReadUris(san));
        Assert.Empty(loaded.SubjectName.RawData.AsSpan(2).ToArray());
        if (algorithm == WorkloadKeyAlgorithm.Rsa2048)
        {
            Assert.Equal(2048, loaded.PublicKey.GetRSAPublicKey()!.KeySize);
            Assert.IsAssignableFrom<RSA>(csr.Key);
        }
        else
        {
            Assert.Equal(256, loaded.PublicKey.GetECDsaPublicKey()!.KeySize);
            Assert.IsAssignableFrom<ECDsa>(csr.Key);
        }
        Assert.Contains("PRIVATE KEY", csr.KeyPem(), StringComparison.Ordinal);
    }

    [Fact]
    public void OptionsFromEnvironmentUsePilotAgentDefaults()
    {
        var env = new Dictionary<string, string> { ["POD_NAMESPACE"] = "shop", ["SERVICE_ACCOUNT"] = "cart" };
        Assert.Equal(IstioCaOptionsError.None, IstioCaOptions.TryFromEnvironment(env.GetValueOrDefault, out var options));
        Assert.Equal("spiffe://cluster.local/ns/shop/sa/cart", options!.Identity.ToString());
        Assert.Equal("istiod.istio-system.svc:15012", options.Address);
        Assert.Equal("/var/run/secrets/istio/root-cert.pem", options.RootCertFile);
        Assert.Equal("/var/run/secrets/tokens/istio-token", options.TokenFile);
        Assert.Equal(TimeSpan.FromHours(24), options.CertificateTtl);
        Assert.Equal(0.5, options.GracePeriodRatio);
        Assert.Equal(0.01, options.GracePeriodJitter);
        Assert.Equal(WorkloadKeyAlgorithm.Rsa2048, options.KeyAlgorithm);
        Assert.Null(options.ClusterId);
    }

    [Fact]
    public void OptionsFromEnvironmentReadEveryKnob()
    {
        var env = new Dictionary<string, string>
        {
            ["POD_NAMESPACE"] = "shop", ["SERVICE_ACCOUNT"] = "cart", ["TRUST_DOMAIN"] = "example.org",
            ["CA_ADDR"] = "10.0.0.1:15010", ["CLUSTER_ID"] = "east", ["ISTIOD_SAN"] = "istiod.custom.svc",
            ["SECRET_TTL"] = "1h30m", ["SECRET_GRACE_PERIOD_RATIO"] = "0.3", ["SECRET_GRACE_PERIOD_RATIO_JITTER"] = "0.05",
            ["ECC_SIGNATURE_ALGORITHM"] = "ECDSA", ["ISTIO_META_CERT_SIGNER"] = "signer1", ["CA_ROOT_CA"] = "/tmp/root.pem",
        };
        Assert.Equal(IstioCaOptionsError.None, IstioCaOptions.TryFromEnvironment(env.GetValueOrDefault, out var options));
        Assert.Equal("spiffe://example.org/ns/shop/sa/cart", options!.Identity.ToString());
        Assert.Equal("10.0.0.1:15010", options.Address);
        Assert.Equal("east", options.ClusterId);
        Assert.Equal("istiod.custom.svc", options.IstiodSan);
        Assert.Equal(TimeSpan.FromMinutes(90), options.CertificateTtl);
        Assert.Equal(0.3, options.GracePeriodRatio);
        Assert.Equal(0.05, options.GracePeriodJitter);
        Assert.Equal(WorkloadKeyAlgorithm.EcdsaP256, options.KeyAlgorithm);
        Assert.Equal("signer1", options.CertSigner);
        Assert.Equal("/tmp/root.pem", options.RootCertFile);
    }

    [Theory]
    [InlineData("", "cart", null, IstioCaOptionsError.IdentityMissing)]
    [InlineData("shop", "bad/sa", null, IstioCaOptionsError.IdentityInvalid)]
    [InlineData("shop", "cart", "SECRET_TTL=1d", IstioCaOptionsError.TtlInvalid)]
    [InlineData("shop", "cart", "SECRET_TTL=0s", IstioCaOptionsError.TtlInvalid)]
    [InlineData("shop", "cart", "SECRET_GRACE_PERIOD_RATIO=1.5", IstioCaOptionsError.GracePeriodInvalid)]
    [InlineData("shop", "cart", "SECRET_GRACE_PERIOD_RATIO=abc", IstioCaOptionsError.GracePeriodInvalid)]
    [InlineData("shop", "cart", "SECRET_GRACE_PERIOD_RATIO_JITTER=0.6", IstioCaOptionsError.GracePeriodInvalid)]
    [InlineData("shop", "cart", "ECC_SIGNATURE_ALGORITHM=DSA", IstioCaOptionsError.KeyAlgorithmInvalid)]
    [InlineData("shop", "cart", "TRUST_DOMAIN=Bad Domain", IstioCaOptionsError.IdentityInvalid)]
    public void BadEnvironmentIsRefused(string ns, string sa, string? extra, IstioCaOptionsError expected)
    {
        var env = new Dictionary<string, string> { ["POD_NAMESPACE"] = ns, ["SERVICE_ACCOUNT"] = sa };
        if (extra is not null) env[extra[..extra.IndexOf('=')]] = extra[(extra.IndexOf('=') + 1)..];
        Assert.Equal(expected, IstioCaOptions.TryFromEnvironment(env.GetValueOrDefault, out var options));
        Assert.Null(options);
    }

    [Theory]
    [InlineData("24h", 86400_000)]
    [InlineData("1h30m", 5400_000)]
    [InlineData("1.5h", 5400_000)]
    [InlineData("90s", 90_000)]
    [InlineData("250ms", 250)]
    [InlineData("0", 0)]
    [InlineData("2m0.5s", 120_500)]
    [InlineData("1500us", 1.5)]
    public void GoDurationsParse(string text, double milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("24")]
    [InlineData("1d")]
    [InlineData("-5s")]
    [InlineData("h")]
    [InlineData("1..5s")]
    [InlineData("5s ")]
    public void GoDurationsRefuseNonsense(string text) => Assert.False(GoDuration.TryParse(text, out _));

    [Fact]
    public void RotationIsAtTheGracePeriodBeforeExpiry()
    {
        var notBefore = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var notAfter = notBefore.AddHours(24);
        Assert.Equal(notBefore.AddHours(12), RotationSchedule.RotateAt(notBefore, notAfter, 0.5, 0.01, 0.5));
        // jitter extremes: ratio ± 0.01 of 24 h = ± 14.4 min
        Assert.Equal(notBefore.AddHours(12).AddMinutes(14.4), RotationSchedule.RotateAt(notBefore, notAfter, 0.5, 0.01, 0.0));
        Assert.Equal(notBefore.AddHours(12).AddMinutes(-14.4), RotationSchedule.RotateAt(notBefore, notAfter, 0.5, 0.01, 1.0));
        // ratio 0.2: rotate when 20 % is left
        Assert.Equal(notBefore.AddHours(24 * 0.8), RotationSchedule.RotateAt(notBefore, notAfter, 0.2, 0, 0.5));
    }

    [Fact]
    public void BackoffDoublesToTheCapWithJitter()
    {
        var initial = TimeSpan.FromSeconds(1);
        var max = TimeSpan.FromSeconds(30);
        Assert.Equal(TimeSpan.FromSeconds(1), RotationSchedule.Backoff(1, initial, max, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(2), RotationSchedule.Backoff(2, initial, max, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(16), RotationSchedule.Backoff(5, initial, max, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(30), RotationSchedule.Backoff(6, initial, max, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(30), RotationSchedule.Backoff(1000, initial, max, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(24), RotationSchedule.Backoff(1000, initial, max, 0.0));
        Assert.Equal(TimeSpan.FromSeconds(36), RotationSchedule.Backoff(1000, initial, max, 1.0));
    }

    [Theory]
    [InlineData("istiod.istio-system.svc:15012", "istiod.istio-system.svc", 15012)]
    [InlineData("10.0.0.1:15010", "10.0.0.1", 15010)]
    [InlineData("[::1]:15012", "::1", 15012)]
    public void AddressesParse(string address, string host, int port)
    {
        Assert.True(GrpcChannelFactory.TryParseAddress(address, out var h, out var p));
        Assert.Equal(host, h);
        Assert.Equal(port, p);
    }

    [Theory]
    [InlineData("istiod")]
    [InlineData("istiod:")]
    [InlineData(":15012")]
    [InlineData("istiod:0")]
    [InlineData("istiod:70000")]
    [InlineData("::1:15012")]
    [InlineData("[]:15012")]
    [InlineData("istiod:+1")]
    public void BadAddressesAreRefused(string address)
    {
        Assert.False(GrpcChannelFactory.TryParseAddress(address, out _, out _));
        Assert.Equal(GrpcTargetError.AddressInvalid, GrpcChannelFactory.TryCreate(new GrpcTargetOptions(address) { Plaintext = true }, out _));
    }

    [Fact]
    public void TlsWithoutRootsIsRefused()
    {
        Assert.Equal(GrpcTargetError.RootsMissing, GrpcChannelFactory.TryCreate(new GrpcTargetOptions("istiod:15012"), out var connection));
        Assert.Null(connection);
    }
}
