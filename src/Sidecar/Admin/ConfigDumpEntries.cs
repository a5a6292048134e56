using System.Text;
using System.Text.Json.Nodes;
using Sidecar.Core.Xds;
using Sidecar.Core.Xds.Decoding;
using Sidecar.Core.Xds.Integration;
using Sidecar.Core.Xds.Secrets;

namespace Sidecar.Admin;

/// <summary>What one <c>/config_dump</c> shows, taken when the request arrives (each part is an immutable snapshot).</summary>
/// <param name="Resources">The xDS resources serving, or null for a static config (the dump is the bootstrap alone).</param>
internal sealed record ConfigDumpSource(string BootstrapJson, IReadOnlyList<DecodedResource>? Resources, bool IncludeEds,
    XdsStatusView? Status = null, IReadOnlyList<ActiveSecret>? Secrets = null);

/// <summary>One top-level dump (<c>envoy.admin.v3.*ConfigDump</c>) and the fields of its lists.</summary>
/// <param name="StaticField">The dump's static list and the bootstrap's static_resources list it comes from (or null).</param>
internal sealed record ConfigDumpSection(string DumpType, string DynamicField, string ResourceField, string TypeUrl, bool NameField, string NameKey,
    (string DumpField, string BootstrapField)? StaticField = null)
{
    public static readonly ConfigDumpSection Clusters = new("ClustersConfigDump", "dynamic_active_clusters", "cluster", XdsTypeUrls.Cluster, false, "name", ("static_clusters", "clusters"));
    public static readonly ConfigDumpSection Listeners = new("ListenersConfigDump", "dynamic_listeners", "listener", XdsTypeUrls.Listener, true, "name", ("static_listeners", "listeners"));
    public static readonly ConfigDumpSection Routes = new("RoutesConfigDump", "dynamic_route_configs", "route_config", XdsTypeUrls.RouteConfiguration, false, "name");
    public static readonly ConfigDumpSection Endpoints = new("EndpointsConfigDump", "dynamic_endpoint_configs", "endpoint_config", XdsTypeUrls.ClusterLoadAssignment, false, "cluster_name");
    public static readonly ConfigDumpSection Secrets = new("SecretsConfigDump", "dynamic_active_secrets", "secret", XdsTypeUrls.Secret, true, "name");

    /// <summary>The dumps of a source, in Envoy's order; endpoints only with include_eds, secrets only when SDS is on.</summary>
    public static IReadOnlyList<ConfigDumpSection> Of(ConfigDumpSource source)
    {
        if (source.Resources is null) return [];
        var sections = new List<ConfigDumpSection>(5) { Clusters, Listeners, Routes };
        if (source.IncludeEds) sections.Add(Endpoints);
        if (source.Secrets is not null) sections.Add(Secrets);
        return sections;
    }

    /// <summary>The bootstrap's items for the static list (null when the section has none or the list is empty).</summary>
    public JsonArray? StaticItems(JsonNode? staticResources) =>
        StaticField is { } field && staticResources?[field.BootstrapField] is JsonArray { Count: > 0 } items ? items : null;
}

/// <summary>Where the entries of a dump list go, one at a time.</summary>
internal interface IConfigDumpSink
{
    /// <summary>The text to write the next entry into.</summary>
    ConfigDumpText BeginEntry();

    /// <summary>After each entry; false when the client has gone and the dump should stop.</summary>
    ValueTask<bool> EndEntryAsync();
}

/// <summary>
/// The entries of the dump lists (envoy.admin.v3 ClustersConfigDump, ListenersConfigDump, RoutesConfigDump,
/// EndpointsConfigDump, SecretsConfigDump in admin/v3/*.proto), each a JSON object written as it is produced: a
/// serving resource with its version, last update and CSDS <c>client_status</c> (and <c>error_state</c> after a refused
/// update); a refused resource that never served; a name requested or said not to exist. Only one resource is
/// decoded at a time, so the dump costs memory in proportion to its largest entry, not to the config.
/// </summary>
internal static class ConfigDumpEntries
{
    /// <summary>Envoy's redaction of private keys in dumps: the bytes of "[redacted]".</summary>
    private const string Redacted = "W3JlZGFjdGVkXQ==";

    /// <summary>Envoy lists the bootstrap's listeners and clusters as <c>StaticListener{listener}</c> / <c>StaticCluster{cluster}</c>.</summary>
    public static async ValueTask<bool> StaticAsync(ConfigDumpSection section, JsonArray items, IConfigDumpSink sink)
    {
        foreach (JsonNode? item in items)
        {
            if (item is not JsonObject resource) continue;
            var typed = new JsonObject { ["@type"] = section.TypeUrl };
            foreach (var kv in resource) if (kv.Key != "@type") typed[kv.Key] = kv.Value?.DeepClone();
            ConfigDumpText t = sink.BeginEntry();
            t.Raw("{\""u8);
            t.Text(section.ResourceField);
            t.Raw("\": "u8);
            t.Node(typed);
            t.Raw("}"u8);
            if (!await sink.EndEntryAsync()) return false;
        }
        return true;
    }

    /// <summary>The dynamic list: serving resources, then refused ones that never served, then requested / missing names.</summary>
    public static async ValueTask<bool> DynamicAsync(ConfigDumpSection section, ConfigDumpSource source, IConfigDumpSink sink)
    {
        XdsStatusView? status = source.Status;
        // Refused updates are few: the names that also serve are marked as the resources go by (no set of every name).
        List<XdsUpdateFailure> refused = status is null ? [] : [.. status.Failures(section.TypeUrl)];
        HashSet<string>? refusedNames = refused.Count == 0 ? null : new HashSet<string>(refused.Select(f => f.Name), StringComparer.Ordinal);
        HashSet<string>? refusedServing = refusedNames is null ? null : new HashSet<string>(StringComparer.Ordinal);
        if (section == ConfigDumpSection.Secrets)
        {
            foreach (ActiveSecret s in source.Secrets ?? [])
            {
                if (refusedNames?.Contains(s.Name) == true) refusedServing!.Add(s.Name);
                Secret(sink.BeginEntry(), s, status);
                if (!await sink.EndEntryAsync()) return false;
            }
        }
        else
        {
            foreach (DecodedResource r in source.Resources ?? [])
            {
                if (r.TypeUrl != section.TypeUrl) continue;
                if (refusedNames?.Contains(r.Name) == true) refusedServing!.Add(r.Name);
                Serving(sink.BeginEntry(), section, r, status);
                if (!await sink.EndEntryAsync()) return false;
            }
        }
        if (status is null) return true;
        foreach (XdsUpdateFailure failure in refused)
        {
            if (refusedServing!.Contains(failure.Name)) continue;
            Refused(sink.BeginEntry(), section, failure);
            if (!await sink.EndEntryAsync()) return false;
        }
        return await UnreceivedAsync(section, status.Requested(section.TypeUrl), XdsClientStatus.Requested, sink)
            && await UnreceivedAsync(section, status.DoesNotExist(section.TypeUrl), XdsClientStatus.DoesNotExist, sink);
    }

    /// <summary>ListenersConfigDump.DynamicListener is name + active_state{…}; the other dynamic entries hold the state directly.</summary>
    private static void Serving(ConfigDumpText t, ConfigDumpSection section, DecodedResource r, XdsStatusView? status)
    {
        if (section.NameField)
        {
            t.Quoted("{\"name\": "u8, r.Name);
            t.Raw(", \"active_state\": {"u8);
        }
        else
        {
            t.Raw("{"u8);
        }
        t.Quoted("\"version_info\": "u8, r.Version);
        t.Raw(", \""u8);
        t.Text(section.ResourceField);
        t.Raw("\": "u8);
        t.Resource(r.Tree, section.TypeUrl);
        t.Raw(", \"last_updated\": \""u8);
        t.Timestamp(r.LastUpdated);
        t.Raw("\""u8);
        if (section.NameField) t.Raw("}"u8);
        if (status is not null) Status(t, status.FailureOf(section.TypeUrl, r.Name), status.StatusOfServing(section.TypeUrl, r.Name));
        t.Raw("}"u8);
    }

    /// <summary>A refused resource that never served: the error alone (failed_configuration names it).</summary>
    private static void Refused(ConfigDumpText t, ConfigDumpSection section, XdsUpdateFailure failure)
    {
        if (section == ConfigDumpSection.Secrets)
        {
            t.Quoted("{\"name\": "u8, failure.Name);
            Status(t, failure, XdsClientStatus.Nacked);
        }
        else
        {
            t.Raw("{"u8);
            if (section.NameField)
            {
                t.Quoted("\"name\": "u8, failure.Name);
                t.Raw(", "u8);
            }
            Status(t, failure, XdsClientStatus.Nacked, leadingComma: false);
        }
        t.Raw("}"u8);
    }

    /// <summary>A name subscribed to but not held: the resource field carries only its name (secrets: the name alone).</summary>
    private static async ValueTask<bool> UnreceivedAsync(ConfigDumpSection section, IReadOnlyList<string> names, XdsClientStatus status, IConfigDumpSink sink)
    {
        foreach (string name in names)
        {
            ConfigDumpText t = sink.BeginEntry();
            if (section == ConfigDumpSection.Secrets)
            {
                t.Quoted("{\"name\": "u8, name);
            }
            else
            {
                t.Raw("{\""u8);
                t.Text(section.ResourceField);
                t.Quoted("\": {\"@type\": "u8, section.TypeUrl);
                t.Raw(", \""u8);
                t.Text(section.NameKey);
                t.Quoted("\": "u8, name);
                t.Raw("}"u8);
            }
            t.Raw(", \"client_status\": \""u8);
            t.Raw(StatusName(status));
            t.Raw("\"}"u8);
            if (!await sink.EndEntryAsync()) return false;
        }
        return true;
    }

    /// <summary>SecretsConfigDump.DynamicSecret: certificates as inline_bytes, the private key redacted as Envoy does.</summary>
    private static void Secret(ConfigDumpText t, ActiveSecret s, XdsStatusView? status)
    {
        t.Quoted("{\"name\": "u8, s.Name);
        t.Quoted(", \"version_info\": "u8, s.Version);
        t.Raw(", \"last_updated\": \""u8);
        t.Timestamp(s.LastUpdated);
        t.Quoted("\", \"secret\": {\"@type\": "u8, XdsTypeUrls.Secret);
        t.Quoted(", \"name\": "u8, s.Name);
        if (s.Value.Certificate is { } c)
        {
            var chain = new StringBuilder(c.Leaf.ExportCertificatePem()).Append('\n');
            foreach (var i in c.Intermediates) chain.Append(i.ExportCertificatePem()).Append('\n');
            t.Raw(", \"tls_certificate\": {\"certificate_chain\": {\"inline_bytes\": \""u8);
            t.Text(Base64(chain.ToString()));
            t.Raw("\"}, \"private_key\": {\"inline_bytes\": \""u8);
            t.Text(Redacted);
            t.Raw("\"}}"u8);
        }
        if (s.Value.Trust is { } trust)
        {
            var roots = new StringBuilder();
            foreach (var root in trust.Roots) roots.Append(root.ExportCertificatePem()).Append('\n');
            t.Raw(", \"validation_context\": {\"trusted_ca\": {\"inline_bytes\": \""u8);
            t.Text(Base64(roots.ToString()));
            t.Raw("\"}}"u8);
        }
        t.Raw("}"u8);
        if (status is not null) Status(t, status.FailureOf(XdsTypeUrls.Secret, s.Name), status.StatusOfServing(XdsTypeUrls.Secret, s.Name));
        t.Raw("}"u8);
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// <c>, "error_state": {…}, "client_status": "…"</c>: UpdateFailureState (admin/v3/config_dump_shared.proto) with the
    /// refused resource as JSON when it decodes (garbage bytes have no JSON form; secrets by name only).
    /// </summary>
    private static void Status(ConfigDumpText t, XdsUpdateFailure? failure, XdsClientStatus status, bool leadingComma = true)
    {
        if (leadingComma) t.Raw(", "u8);
        if (failure is not null)
        {
            t.Raw("\"error_state\": {"u8);
            if (failure.TypeUrl == XdsTypeUrls.Secret)
            {
                t.Quoted("\"failed_configuration\": {\"@type\": "u8, failure.TypeUrl);
                t.Quoted(", \"name\": "u8, failure.Name);
                t.Raw("}, "u8);
            }
            else if (ProtoTreeDecoder.Decode(failure.TypeUrl, failure.FailedConfiguration.Span) is { IsSuccess: true, Tree: { } tree })
            {
                t.Raw("\"failed_configuration\": "u8);
                t.Resource(tree, failure.TypeUrl);
                t.Raw(", "u8);
            }
            t.Raw("\"last_update_attempt\": \""u8);
            t.Timestamp(failure.LastUpdateAttempt);
            t.Quoted("\", \"details\": "u8, failure.Details);
            t.Quoted(", \"version_info\": "u8, failure.VersionInfo);
            t.Raw("}, "u8);
        }
        t.Raw("\"client_status\": \""u8);
        t.Raw(StatusName(status));
        t.Raw("\""u8);
    }

    private static ReadOnlySpan<byte> StatusName(XdsClientStatus status) => status switch
    {
        XdsClientStatus.Requested => "REQUESTED"u8,
        XdsClientStatus.DoesNotExist => "DOES_NOT_EXIST"u8,
        XdsClientStatus.Acked => "ACKED"u8,
        XdsClientStatus.Nacked => "NACKED"u8,
        _ => "UNKNOWN"u8,
    };
}
