using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Xds.Decoding;
using Sidecar.Core.Xds.Secrets;

namespace Sidecar.Core.Xds.Integration;

/// <summary>
/// Envoy's <c>/config_dump</c> (<c>envoy.admin.v3.ConfigDump</c>) for a proxy driven by xDS: the bootstrap, then
/// clusters, listeners and routes as <c>dynamic_*</c> entries with their version and last update, each resource with
/// its real <c>@type</c> — the shape <c>istioctl proxy-config … -f</c> reads. Endpoints only with <c>include_eds</c>;
/// SDS secrets (certificates only, private keys redacted as Envoy does) in a SecretsConfigDump. With a status view each
/// entry carries CSDS's <c>client_status</c> (ACKED / NACKED / REQUESTED / DOES_NOT_EXIST) and, after a rejected update,
/// <c>error_state</c> (<c>UpdateFailureState</c>: failed_configuration, last_update_attempt, details, version_info);
/// refused new resources and names requested but not received appear as entries of their own
/// (admin/v3/config_dump_shared.proto).
/// </summary>
public static class XdsConfigDump
{
    private const string Admin = "type.googleapis.com/envoy.admin.v3.";

    /// <summary>Envoy's redaction of private keys in dumps: the bytes of "[redacted]".</summary>
    private const string Redacted = "W3JlZGFjdGVkXQ==";

    /// <param name="StaticField">The dump's static list and the bootstrap's static_resources list it comes from (or null).</param>
    private sealed record SectionShape(string DumpType, string ListField, string ResourceField, string TypeUrl, bool NameField, string NameKey,
        (string DumpField, string BootstrapField)? Static = null);

    private static readonly SectionShape Clusters = new("ClustersConfigDump", "dynamic_active_clusters", "cluster", XdsTypeUrls.Cluster, false, "name", ("static_clusters", "clusters"));
    private static readonly SectionShape Listeners = new("ListenersConfigDump", "dynamic_listeners", "listener", XdsTypeUrls.Listener, true, "name", ("static_listeners", "listeners"));
    private static readonly SectionShape Routes = new("RoutesConfigDump", "dynamic_route_configs", "route_config", XdsTypeUrls.RouteConfiguration, false, "name");
    private static readonly SectionShape Endpoints = new("EndpointsConfigDump", "dynamic_endpoint_configs", "endpoint_config", XdsTypeUrls.ClusterLoadAssignment, false, "cluster_name");

    public static string Render(string bootstrapJson, IReadOnlyList<DecodedResource> resources, bool includeEds,
        XdsStatusView? status = null, IReadOnlyList<ActiveSecret>? secrets = null)
    {
        var sb = new StringBuilder(4096);
        sb.Append("{\n \"configs\": [\n  {\n   \"@type\": \"").Append(Admin).Append("BootstrapConfigDump\",\n   \"bootstrap\": ").Append(bootstrapJson).Append("\n  }");
        JsonNode? staticResources = StaticResources(bootstrapJson);
        Section(sb, Clusters, resources, status, staticResources);
        Section(sb, Listeners, resources, status, staticResources);
        Section(sb, Routes, resources, status, staticResources);
        if (includeEds) Section(sb, Endpoints, resources, status, staticResources);
        if (secrets is not null) SecretsSection(sb, secrets, status);
        sb.Append("\n ]\n}\n");
        return sb.ToString();
    }

    /// <summary>The bootstrap's <c>static_resources</c>, or null when there is none (or the text is not JSON).</summary>
    private static JsonNode? StaticResources(string bootstrapJson)
    {
        try
        {
            return JsonNode.Parse(bootstrapJson)?["static_resources"];
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Envoy lists the bootstrap's listeners and clusters as <c>static_listeners</c>/<c>static_clusters</c>
    /// (<c>StaticListener{listener}</c>, <c>StaticCluster{cluster}</c>); istioctl's summaries read them there.
    /// </summary>
    private static void StaticSection(StringBuilder sb, SectionShape shape, JsonNode? staticResources)
    {
        if (shape.Static is not { } field || staticResources?[field.BootstrapField] is not JsonArray items || items.Count == 0) return;
        sb.Append("\n   \"").Append(field.DumpField).Append("\": [");
        bool first = true;
        foreach (JsonNode? item in items)
        {
            if (item is not JsonObject resource) continue;
            var typed = new JsonObject { ["@type"] = shape.TypeUrl };
            foreach (var kv in resource) if (kv.Key != "@type") typed[kv.Key] = kv.Value?.DeepClone();
            Open(sb, ref first);
            sb.Append("{\"").Append(shape.ResourceField).Append("\": ").Append(typed.ToJsonString()).Append('}');
        }
        sb.Append(first ? "],\n   " : "\n   ],\n   ");
    }

    private static void Section(StringBuilder sb, SectionShape shape, IReadOnlyList<DecodedResource> resources, XdsStatusView? status, JsonNode? staticResources)
    {
        sb.Append(",\n  {\n   \"@type\": \"").Append(Admin).Append(shape.DumpType).Append("\",");
        StaticSection(sb, shape, staticResources);
        sb.Append("\n   \"").Append(shape.ListField).Append("\": [");
        bool first = true;
        var serving = new HashSet<string>(StringComparer.Ordinal);
        foreach (DecodedResource r in resources)
        {
            if (r.TypeUrl != shape.TypeUrl) continue;
            serving.Add(r.Name);
            Open(sb, ref first);
            string body = ConfigJsonWriter.Write(WithType(r.Tree, shape.TypeUrl), indented: false);
            string state = $"\"version_info\": {Quote(r.Version)}, \"{shape.ResourceField}\": {body}, \"last_updated\": \"{Timestamp(r.LastUpdated)}\"";
            // ListenersConfigDump.DynamicListener: name + active_state{version_info, listener, last_updated}.
            if (shape.NameField) sb.Append("{\"name\": ").Append(Quote(r.Name)).Append(", \"active_state\": {").Append(state).Append('}');
            else sb.Append('{').Append(state);
            if (status is not null) Status(sb, status.FailureOf(shape.TypeUrl, r.Name), status.StatusOfServing(shape.TypeUrl, r.Name));
            sb.Append('}');
        }
        if (status is not null)
        {
            // Refused resources that never served: the error alone (failed_configuration names them).
            foreach (XdsUpdateFailure failure in status.Failures(shape.TypeUrl))
            {
                if (serving.Contains(failure.Name)) continue;
                Open(sb, ref first);
                sb.Append('{');
                if (shape.NameField) sb.Append("\"name\": ").Append(Quote(failure.Name)).Append(", ");
                Status(sb, failure, XdsClientStatus.Nacked, leadingComma: false);
                sb.Append('}');
            }
            Unreceived(sb, shape, status.Requested(shape.TypeUrl), XdsClientStatus.Requested, ref first);
            Unreceived(sb, shape, status.DoesNotExist(shape.TypeUrl), XdsClientStatus.DoesNotExist, ref first);
        }
        sb.Append(first ? "]\n  }" : "\n   ]\n  }");
    }

    /// <summary>A name subscribed to but not held: the resource field carries only its name (the entry has no other).</summary>
    private static void Unreceived(StringBuilder sb, SectionShape shape, IReadOnlyList<string> names, XdsClientStatus status, ref bool first)
    {
        foreach (string name in names)
        {
            Open(sb, ref first);
            sb.Append("{\"").Append(shape.ResourceField).Append("\": {\"@type\": ").Append(Quote(shape.TypeUrl)).Append(", \"").Append(shape.NameKey)
              .Append("\": ").Append(Quote(name)).Append("}, \"client_status\": \"").Append(StatusName(status)).Append("\"}");
        }
    }

    private static void SecretsSection(StringBuilder sb, IReadOnlyList<ActiveSecret> secrets, XdsStatusView? status)
    {
        sb.Append(",\n  {\n   \"@type\": \"").Append(Admin).Append("SecretsConfigDump\",\n   \"dynamic_active_secrets\": [");
        bool first = true;
        var serving = new HashSet<string>(StringComparer.Ordinal);
        foreach (ActiveSecret s in secrets)
        {
            serving.Add(s.Name);
            Open(sb, ref first);
            sb.Append("{\"name\": ").Append(Quote(s.Name)).Append(", \"version_info\": ").Append(Quote(s.Version))
              .Append(", \"last_updated\": \"").Append(Timestamp(s.LastUpdated)).Append("\", \"secret\": ").Append(SecretJson(s.Name, s.Value));
            if (status is not null) Status(sb, status.FailureOf(XdsTypeUrls.Secret, s.Name), status.StatusOfServing(XdsTypeUrls.Secret, s.Name));
            sb.Append('}');
        }
        if (status is not null)
        {
            foreach (XdsUpdateFailure failure in status.Failures(XdsTypeUrls.Secret))
            {
                if (serving.Contains(failure.Name)) continue;
                Open(sb, ref first);
                sb.Append("{\"name\": ").Append(Quote(failure.Name));
                Status(sb, failure, XdsClientStatus.Nacked);
                sb.Append('}');
            }
            foreach ((IReadOnlyList<string> names, XdsClientStatus kind) in new[] { (status.Requested(XdsTypeUrls.Secret), XdsClientStatus.Requested), (status.DoesNotExist(XdsTypeUrls.Secret), XdsClientStatus.DoesNotExist) })
            {
                foreach (string name in names)
                {
                    Open(sb, ref first);
                    sb.Append("{\"name\": ").Append(Quote(name)).Append(", \"client_status\": \"").Append(StatusName(kind)).Append("\"}");
                }
            }
        }
        sb.Append(first ? "]\n  }" : "\n   ]\n  }");
    }

    /// <summary>The secret as Envoy dumps it: certificates as inline_bytes, the private key redacted.</summary>
    private static string SecretJson(string name, SdsSecretValue value)
    {
        var sb = new StringBuilder();
        sb.Append("{\"@type\": ").Append(Quote(XdsTypeUrls.Secret)).Append(", \"name\": ").Append(Quote(name));
        if (value.Certificate is { } c)
        {
            var chain = new StringBuilder(c.Leaf.ExportCertificatePem()).Append('\n');
            foreach (var i in c.Intermediates) chain.Append(i.ExportCertificatePem()).Append('\n');
            sb.Append(", \"tls_certificate\": {\"certificate_chain\": {\"inline_bytes\": \"").Append(Base64(chain.ToString()))
              .Append("\"}, \"private_key\": {\"inline_bytes\": \"").Append(Redacted).Append("\"}}");
        }
        if (value.Trust is { } t)
        {
            var roots = new StringBuilder();
            foreach (var root in t.Roots) roots.Append(root.ExportCertificatePem()).Append('\n');
            sb.Append(", \"validation_context\": {\"trusted_ca\": {\"inline_bytes\": \"").Append(Base64(roots.ToString())).Append("\"}}");
        }
        return sb.Append('}').ToString();
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>Appends <c>, "error_state": {…}, "client_status": "…"</c>.</summary>
    private static void Status(StringBuilder sb, XdsUpdateFailure? failure, XdsClientStatus status, bool leadingComma = true)
    {
        if (leadingComma) sb.Append(", ");
        if (failure is not null)
        {
            sb.Append("\"error_state\": {");
            if (FailedConfiguration(failure) is { } failed) sb.Append("\"failed_configuration\": ").Append(failed).Append(", ");
            sb.Append("\"last_update_attempt\": \"").Append(Timestamp(failure.LastUpdateAttempt)).Append("\", \"details\": ").Append(Quote(failure.Details))
              .Append(", \"version_info\": ").Append(Quote(failure.VersionInfo)).Append("}, ");
        }
        sb.Append("\"client_status\": \"").Append(StatusName(status)).Append('"');
    }

    /// <summary>The refused resource as JSON with its @type, when it decodes (garbage bytes have no JSON form); secrets by name only.</summary>
    private static string? FailedConfiguration(XdsUpdateFailure failure)
    {
        if (failure.TypeUrl == XdsTypeUrls.Secret) return $"{{\"@type\": {Quote(failure.TypeUrl)}, \"name\": {Quote(failure.Name)}}}";
        XdsDecodeResult decoded = ProtoTreeDecoder.Decode(failure.TypeUrl, failure.FailedConfiguration.Span);
        return decoded.IsSuccess && decoded.Tree is { } tree ? ConfigJsonWriter.Write(WithType(tree, failure.TypeUrl), indented: false) : null;
    }

    private static string StatusName(XdsClientStatus status) => status switch
    {
        XdsClientStatus.Requested => "REQUESTED",
        XdsClientStatus.DoesNotExist => "DOES_NOT_EXIST",
        XdsClientStatus.Acked => "ACKED",
        XdsClientStatus.Nacked => "NACKED",
        _ => "UNKNOWN",
    };

    private static void Open(StringBuilder sb, ref bool first)
    {
        sb.Append(first ? "\n    " : ",\n    ");
        first = false;
    }

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static ConfigNode WithType(ConfigNode tree, string typeUrl)
    {
        if (tree is not ConfigMap map) return tree;
        var entries = ImmutableArray.CreateBuilder<KeyValuePair<string, ConfigNode>>(map.Entries.Length + 1);
        entries.Add(new("@type", new ConfigScalar(map.Path, typeUrl, ScalarKind.String)));
        entries.AddRange(map.Entries);
        return new ConfigMap(map.Path, entries.MoveToImmutable());
    }

    private static string Quote(string s) => ConfigJsonWriter.Quote(s);
}
