using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Sidecar.Core.Config;
using Sidecar.Core.Grpc;
using Sidecar.Core.Proxy;
using Sidecar.Core.Tests.Identity;
using Sidecar.Core.Tests.Listeners;
using Sidecar.Core.Tests.Tls;
using Sidecar.Core.Xds;
using Sidecar.Core.Xds.Decoding;
using Sidecar.Core.Xds.Integration;
using Sidecar.Core.Xds.Secrets;
using Xunit;
using static Sidecar.Core.Tests.Xds.FakeIstiod;

namespace Sidecar.Core.Tests.Xds;

/// <summary>
/// SDS over ADS against the fake istiod: a listener whose TLS certificate is a <c>kubernetes://</c> secret is not
/// published before the secret arrives, then serves TLS with it; a new version of the secret is presented by the next
/// handshake without the listener being translated or bound again; a garbage or mismatched secret is NACKed naming it
/// and the previous one keeps serving.
/// </summary>
public sealed class XdsSecretsTests : IAsyncLifetime
{
    private const string SecretName = "kubernetes://gw-cred";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly SdsSecretRegistry _secrets = new();
    private readonly ManagedProxy _proxy;
    private readonly CancellationTokenSource _stop = new();
    private readonly TestPki _pki = new("sds-test-root");
    private FakeIstiod _fake = null!;
    private XdsConfigTranslator _translator = null!;
    private Task? _run;
    private XdsClient? _client;

    public XdsSecretsTests() => _proxy = new ManagedProxy(new TlsBindings(null, NullLogger.Instance, _secrets));

    public async Task InitializeAsync()
    {
        _fake = await FakeIstiod.StartAsync();
        _translator = new XdsConfigTranslator(null, model => _proxy.Manager.ApplyAsync(model).GetAwaiter().GetResult());
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null) await _run.WaitAsync(TimeSpan.FromSeconds(10));
        await _fake.DisposeAsync();
        await _proxy.DisposeAsync();
    }

    private async Task PutAsync(string type, string name, string typeUrl, JsonObject json)
    {
        XdsEncodeResult encoded = ProtoTreeEncoder.Encode(typeUrl, ConfigLoader.ReadTree(json.ToJsonString(), isJson: true).Value!);
        Assert.True(encoded.IsSuccess, encoded.ToString());
        await _fake.CommandAsync(new JsonObject { ["cmd"] = "putRaw", ["type"] = type, ["name"] = name, ["base64"] = Convert.ToBase64String(encoded.Bytes!) });
    }

    private static JsonObject Listener(int port) => (JsonObject)JsonNode.Parse($$"""
{
  "name": "gw_{{port}}",
  "address": { "socket_address": { "address": "127.0.0.1", "port_value": {{port}} } },
  "filter_chains": [{
    "transport_socket": {
      "name": "envoy.transport_sockets.tls",
      "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "common_tls_context": {
          "tls_certificate_sds_secret_configs": [{ "name": "{{SecretName}}", "sds_config": { "ads": {}, "resource_api_version": "V3" } }]
        }
      }
    },
    "filters": [{
      "name": "envoy.filters.network.http_connection_manager",
      "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "gw",
        "route_config": { "name": "local", "virtual_hosts": [{ "name": "all", "domains": ["*"],
          "routes": [{ "match": { "prefix": "/" }, "direct_response": { "status": 200, "body": { "inline_string": "tls ok" } } }] }] },
        "http_filters": [{ "name": "envoy.filters.http.router", "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }]
      }
    }]
  }]
}
""")!;

    private static JsonObject Cluster => new()
    {
        ["name"] = "unused",
        ["type"] = "STATIC",
        ["connect_timeout"] = "1s",
        ["load_assignment"] = new JsonObject { ["cluster_name"] = "unused" },
    };

    private static JsonObject Secret(string chainPem, string keyPem) => new()
    {
        ["name"] = SecretName,
        ["tls_certificate"] = new JsonObject
        {
            ["certificate_chain"] = new JsonObject { ["inline_string"] = chainPem },
            ["private_key"] = new JsonObject { ["inline_string"] = keyPem },
        },
    };

    private void StartClient(XdsProtocol protocol)
    {
        Assert.Equal(GrpcTargetError.None, GrpcChannelFactory.TryCreate(new GrpcTargetOptions($"127.0.0.1:{_fake.Port}") { Plaintext = true }, out GrpcConnection? connection));
        var options = new XdsClientOptions
        {
            Protocol = protocol,
            BackoffBase = TimeSpan.FromMilliseconds(50),
            BackoffMax = TimeSpan.FromMilliseconds(400),
            TickInterval = TimeSpan.FromMilliseconds(100),
        };
        _client = new XdsClient(XdsTestResources.Node(), new GrpcXdsTransport(connection!), _translator, options, _proxy.Stats, NullLogger.Instance,
            secrets: _secrets);
        _run = _client.RunAsync(_stop.Token);
    }

    /// <summary>One TLS handshake + GET: the serial the server presented, and the response (or the failure).</summary>
    private static async Task<(string? Serial, string Response)> HandshakeAsync(int port)
    {
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            string? serial = null;
            using var tls = new SslStream(tcp.GetStream(), false, (_, cert, _, _) =>
            {
                // The test compares the presented serial with the one pushed; it only needs a certificate to be there.
                serial = cert is null ? null : new X509Certificate2(cert).SerialNumber;
                return serial is not null;
            });
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "gw.example.com" }, cts.Token);
            await tls.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"), cts.Token);
            var response = new MemoryStream();
            await tls.CopyToAsync(response, cts.Token);
            string text = Encoding.ASCII.GetString(response.ToArray());
            return (serial, text.Length >= 12 ? text[..12] + (text.EndsWith("tls ok", StringComparison.Ordinal) ? " tls ok" : "") : text);
        }
        catch (Exception e) when (e is SocketException or IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            return (null, e.GetType().Name);
        }
    }

    private static async Task<(string? Serial, string Response)> EventuallyAsync(int port, Func<(string? Serial, string Response), bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        (string?, string) last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await HandshakeAsync(port);
            if (done(last)) return last;
            await Task.Delay(50);
        }
        Assert.Fail($"timed out waiting for {what}; last: {last}");
        return last;
    }

    [Theory]
    [InlineData(XdsProtocol.Delta)]
    [InlineData(XdsProtocol.StateOfTheWorld)]
    public async Task ListenerWaitsForItsSecretServesItRotatesWithoutRebindingAndRefusesBadOnes(XdsProtocol protocol)
    {
        int port = TlsTestPeers.FreePort();
        var first = _pki.Issue(null, dns: "gw.example.com");
        await PutAsync("CDS", "unused", XdsTypeUrls.Cluster, Cluster);
        await PutAsync("LDS", $"gw_{port}", XdsTypeUrls.Listener, Listener(port));
        int mark = _fake.Mark;
        StartClient(protocol);

        // The listener references a secret istiod has not sent: the client subscribes to it and publishes nothing.
        JsonElement subscribe = await _fake.WaitForAsync(e => Is(e, "request") && Str(e, "type") == "SDS", mark, Wait, "the SDS subscription");
        Assert.Contains(SecretName, Strings(subscribe, protocol == XdsProtocol.Delta ? "subscribe" : "names"));
        await Task.Delay(300);
        Assert.Null(_translator.LastModel);
        Assert.Empty(_proxy.Manager.Listeners);

        // The secret arrives: the listener is published and serves TLS with it.
        await PutAsync("SDS", SecretName, XdsTypeUrls.Secret, Secret(first.ChainPem, first.KeyPem));
        await _fake.PushAsync("SDS");
        var served = await EventuallyAsync(port, r => r.Serial is not null && r.Response.EndsWith("tls ok", StringComparison.Ordinal), "TLS with the pushed secret");
        Assert.Equal(first.Leaf.SerialNumber, served.Serial);
        Assert.StartsWith("HTTP/1.1 200", served.Response);
        // The listener accepts as soon as it is bound, just before the manager lists it: wait for the commit.
        for (int i = 0; i < 100 && _proxy.Manager.Listeners.Count == 0; i++) await Task.Delay(20);
        var listener = Assert.Single(_proxy.Manager.Listeners);
        var model = _translator.LastModel;

        // Rotation: a new version of the secret is presented by the next handshake; no re-translation, no re-binding.
        var second = _pki.Issue(null, dns: "gw.example.com");
        await PutAsync("SDS", SecretName, XdsTypeUrls.Secret, Secret(second.ChainPem, second.KeyPem));
        await _fake.PushAsync("SDS");
        await EventuallyAsync(port, r => r.Serial == second.Leaf.SerialNumber, "the rotated secret");
        Assert.Same(model, _translator.LastModel);
        Assert.Same(listener, Assert.Single(_proxy.Manager.Listeners));
        Assert.Equal(second.Leaf.SerialNumber, Assert.Single(_secrets.Active).Value.Certificate!.SerialNumber);

        // Garbage PEM, then a key that does not match the certificate: NACKed naming the secret, the rotated one serves on.
        foreach ((string chain, string key, string reason) in new[]
        {
            ("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", second.KeyPem, "ChainUnparsable"),
            (second.ChainPem, first.KeyPem, "KeyMismatch"),
        })
        {
            mark = _fake.Mark;
            await PutAsync("SDS", SecretName, XdsTypeUrls.Secret, Secret(chain, key));
            await _fake.PushAsync("SDS");
            JsonElement nack = await _fake.WaitForAsync(e => Is(e, "request") && Str(e, "type") == "SDS" && e.TryGetProperty("error", out _), mark, Wait, "the NACK");
            string message = Str(nack.GetProperty("error"), "message");
            Assert.Contains(SecretName, message);
            Assert.Contains(reason, message);
            Assert.Equal(second.Leaf.SerialNumber, (await HandshakeAsync(port)).Serial);
        }

        // /config_dump: the serving secret (key redacted), NACKED by its last refused update, with the reason.
        string dump = XdsConfigDump.Render("{}", _translator.Published, includeEds: false, _client!.Status, _secrets.Active);
        using JsonDocument doc = JsonDocument.Parse(dump);
        JsonElement secrets = doc.RootElement.GetProperty("configs").EnumerateArray()
            .Single(c => c.GetProperty("@type").GetString() == "type.googleapis.com/envoy.admin.v3.SecretsConfigDump").GetProperty("dynamic_active_secrets");
        JsonElement entry = Assert.Single(secrets.EnumerateArray());
        Assert.Equal(SecretName, entry.GetProperty("name").GetString());
        Assert.Equal("NACKED", entry.GetProperty("client_status").GetString());
        Assert.Contains("KeyMismatch", entry.GetProperty("error_state").GetProperty("details").GetString());
        JsonElement certificate = entry.GetProperty("secret").GetProperty("tls_certificate");
        Assert.Equal("[redacted]", Encoding.UTF8.GetString(Convert.FromBase64String(certificate.GetProperty("private_key").GetProperty("inline_bytes").GetString()!)));
        Assert.Contains(second.Leaf.ExportCertificatePem(), Encoding.UTF8.GetString(Convert.FromBase64String(certificate.GetProperty("certificate_chain").GetProperty("inline_bytes").GetString()!)));
    }
}
