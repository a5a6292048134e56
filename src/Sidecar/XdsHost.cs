using System.Collections;
using Microsoft.Extensions.Logging;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Grpc;
using Sidecar.Core.Identity;
using Sidecar.Core.Listeners;
using Sidecar.Core.Telemetry;
using Sidecar.Core.Xds;
using Sidecar.Core.Xds.Integration;
using Sidecar.Core.Xds.Secrets;

namespace Sidecar;

/// <summary>Where and how to reach istiod: pilot-agent's defaults, overridable by our flags and env.</summary>
internal sealed record XdsSettings(ConfigNode Bootstrap, string Address)
{
    public const string DefaultAddress = "istiod.istio-system.svc:15012";
}

/// <summary>
/// Runs the ADS client against istiod and applies what it accepts through the listener manager (the same path a
/// static config takes). TLS to istiod is verified against the mesh root (<c>/var/run/secrets/istio/root-cert.pem</c>,
/// else the workload certificate's bundle) with SAN <c>ISTIOD_SAN</c> (default istiod.istio-system.svc); port 15010
/// (or <c>XDS_PLAINTEXT=true</c>) is plaintext.
/// </summary>
internal sealed class XdsHost : IAsyncDisposable
{
    private const string RootCertFile = "/var/run/secrets/istio/root-cert.pem";
    private const string TokenFile = "/var/run/secrets/tokens/istio-token";

    private readonly CancellationTokenSource _stop;
    private readonly GrpcConnection _connection;
    private readonly Task _run;

    private XdsHost(GrpcConnection connection, XdsConfigTranslator translator, XdsClient client, SdsSecretRegistry secrets)
    {
        _connection = connection;
        Translator = translator;
        Client = client;
        Secrets = secrets;
        _stop = new CancellationTokenSource();
        CancellationToken token = _stop.Token;
        _run = Task.Run(() => client.RunAsync(token));
    }

    public XdsConfigTranslator Translator { get; }

    public XdsClient Client { get; }

    public SdsSecretRegistry Secrets { get; }

    /// <param name="secrets">The registry the TLS bindings read SDS secrets from (the same instance).</param>
    public static string? TryStart(XdsSettings settings, ListenerManager listeners, ICertificateSource? workload, SdsSecretRegistry secrets,
        StatsStore stats, ILogger log, NotEnforcedLog notEnforced, out XdsHost? host)
    {
        host = null;
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables()) env[(string)e.Key] = (string?)e.Value ?? "";
        string san = env.GetValueOrDefault("ISTIOD_SAN") is { Length: > 0 } s ? s : "istiod.istio-system.svc";
        var warnings = new List<string>();
        XdsNode node = NodeIdentityBuilder.Build(new NodeIdentityOptions { Environment = env, PilotSubjectAltNames = [san] }, warnings);
        foreach (string w in warnings) HostLog.XdsRejected(log, "node metadata: " + w);

        bool plaintext = settings.Address.EndsWith(":15010", StringComparison.Ordinal) || env.GetValueOrDefault("XDS_PLAINTEXT") == "true";
        TrustBundle? roots = null;
        if (!plaintext)
        {
            if (File.Exists(RootCertFile) && TrustBundle.TryParse(File.ReadAllText(RootCertFile), out TrustBundle? fromFile) == TrustBundleError.None) roots = fromFile;
            roots ??= workload?.Current?.TrustBundle;
            if (roots is null) return $"xDS over TLS to {settings.Address} needs the mesh root: {RootCertFile} or a workload certificate (or use port 15010 / XDS_PLAINTEXT=true)";
        }
        var target = new GrpcTargetOptions(settings.Address)
        {
            Plaintext = plaintext,
            Roots = roots,
            ServerName = san,
            ClientCertificate = plaintext ? null : workload,
            TokenFile = File.Exists(TokenFile) ? TokenFile : null,
            ClusterId = env.GetValueOrDefault("CLUSTER_ID") ?? env.GetValueOrDefault("ISTIO_META_CLUSTER_ID"),
        };
        GrpcTargetError error = GrpcChannelFactory.TryCreate(target, out GrpcConnection? connection);
        if (error != GrpcTargetError.None || connection is null) return $"xDS target {settings.Address}: {error}";

        long generation = 0;
        var translator = new XdsConfigTranslator(settings.Bootstrap, model =>
        {
            // The xDS client's loop is the only caller: waiting here keeps its ACK/NACK after the apply.
            string? refused = listeners.ApplyAsync(model).GetAwaiter().GetResult();
            long applied = Interlocked.Increment(ref generation);
            if (refused is null)
            {
                HostLog.XdsApplied(log, applied, model.Listeners.Length, model.Clusters.Count);
                notEnforced.Report(model);
            }
            else HostLog.XdsRejected(log, refused);
            return refused;
        });
        var client = new XdsClient(node, new GrpcXdsTransport(connection), translator, new XdsClientOptions { TargetDescription = settings.Address }, stats, log,
            secrets: secrets);
        host = new XdsHost(connection, translator, client, secrets);
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (OperationCanceledException)
        {
        }
        _connection.Dispose();
        _stop.Dispose();
    }
}
