using System.Collections.Immutable;
using System.Text;
using Sidecar.Core.Config;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Tests.Xds.Decoding;

/// <summary>
/// Tallies, per feature (a listener filter, network filter or HTTP filter by type; a listener, cluster or
/// route field by name), how many instances in the real resources the existing translators accepted and
/// why they rejected the others. An instance is rejected when the translator reported an error at its path
/// or below it. Errors about cluster names are left out: clusters arrive by CDS, separately.
/// </summary>
internal sealed class SupportSurvey
{
    private readonly SortedDictionary<string, SortedDictionary<string, Tally>> _sections = new(StringComparer.Ordinal);

    public int Resources { get; private set; }

    public Tally Get(string section, string feature) =>
        _sections.TryGetValue(section, out var s) && s.TryGetValue(feature, out Tally? t) ? t : new Tally();

    /// <summary>Records every feature instance of one translated tree (rooted at <c>static_resources.{listeners|clusters}[0]</c>).</summary>
    public void AddListener(ConfigMap listener, ImmutableArray<ConfigError> errors)
    {
        Resources++;
        Fields("listener fields", "", listener, errors, "filter_chains", "listener_filters", "default_filter_chain");
        foreach (ConfigNode lf in Items(listener.Get("listener_filters")))
        {
            Instance("listener filters", ExtensionId(lf), lf.Path, errors);
        }
        foreach (ConfigNode chain in Items(listener.Get("filter_chains")).Append(listener.Get("default_filter_chain")).OfType<ConfigMap>())
        {
            Fields("listener fields", "filter_chain.", (ConfigMap)chain, errors, "filters", "filter_chain_match");
            if (((ConfigMap)chain).Get("filter_chain_match") is ConfigMap match)
            {
                Fields("listener fields", "filter_chain_match.", match, errors);
            }
            foreach (ConfigNode filter in Items(((ConfigMap)chain).Get("filters")))
            {
                Instance("network filters", ExtensionId(filter), filter.Path, errors);
                if (filter is ConfigMap f && f.Get("typed_config") is ConfigMap hcm && ExtensionId(filter).EndsWith("HttpConnectionManager", StringComparison.Ordinal))
                {
                    Fields("http_connection_manager fields", "", hcm, errors, "@type", "http_filters", "route_config");
                    foreach (ConfigNode hf in Items(hcm.Get("http_filters")))
                    {
                        Instance("HTTP filters", ExtensionId(hf), hf.Path, errors);
                    }
                    if (hcm.Get("route_config") is ConfigMap rc)
                    {
                        AddRoutes(rc, errors);
                    }
                }
            }
        }
    }

    public void AddCluster(ConfigMap cluster, ImmutableArray<ConfigError> errors)
    {
        Resources++;
        foreach (KeyValuePair<string, ConfigNode> e in cluster.Entries)
        {
            string feature = e.Key switch
            {
                "type" when e.Value is ConfigScalar s => "type=" + s.Text,
                "lb_policy" when e.Value is ConfigScalar s => "lb_policy=" + s.Text,
                "transport_socket" => "transport_socket " + ExtensionId(e.Value),
                _ => e.Key,
            };
            Instance("cluster features", feature, e.Value.Path, errors);
            if (e.Key == "typed_extension_protocol_options" && e.Value is ConfigMap options)
            {
                foreach (KeyValuePair<string, ConfigNode> o in options.Entries)
                {
                    if (o.Value is ConfigMap om)
                    {
                        Fields("cluster features", "HttpProtocolOptions.", om, errors, "@type");
                    }
                }
            }
        }
    }

    /// <summary>A route configuration no listener of its dump refers to, translated inside a minimal HCM.</summary>
    public void AddRouteConfiguration(ConfigMap rc, ImmutableArray<ConfigError> errors)
    {
        Resources++;
        AddRoutes(rc, errors);
    }

    private void AddRoutes(ConfigMap rc, ImmutableArray<ConfigError> errors)
    {
        Fields("route features", "route_configuration.", rc, errors, "virtual_hosts");
        foreach (ConfigNode vh in Items(rc.Get("virtual_hosts")).OfType<ConfigMap>())
        {
            Fields("route features", "virtual_host.", (ConfigMap)vh, errors, "routes");
            foreach (ConfigMap route in Items(((ConfigMap)vh).Get("routes")).OfType<ConfigMap>())
            {
                Fields("route features", "route.", route, errors, "match", "route");
                if (route.Get("match") is ConfigMap m)
                {
                    Fields("route features", "route.match.", m, errors);
                }
                if (route.Get("route") is ConfigMap action)
                {
                    Fields("route features", "route.route.", action, errors);
                }
            }
        }
    }

    public string ToMarkdown()
    {
        StringBuilder sb = new();
        foreach ((string section, SortedDictionary<string, Tally> features) in _sections)
        {
            sb.Append("\n#### ").Append(section).Append("\n\n| feature | seen | accepted | rejected | why (first reasons) |\n|---|---:|---:|---:|---|\n");
            foreach ((string feature, Tally t) in features)
            {
                string why = string.Join("; ", t.Reasons.OrderByDescending(r => r.Value).Take(2).Select(r => $"{r.Key} ({r.Value})"));
                sb.Append($"| `{feature}` | {t.Seen} | {t.Accepted} | {t.Seen - t.Accepted} | {why.Replace("|", "\\|", StringComparison.Ordinal)} |\n");
            }
        }
        return sb.ToString();
    }

    private void Fields(string section, string prefix, ConfigMap map, ImmutableArray<ConfigError> errors, params string[] containers)
    {
        foreach (KeyValuePair<string, ConfigNode> e in map.Entries)
        {
            if (Array.IndexOf(containers, e.Key) < 0)
            {
                Instance(section, prefix + e.Key, e.Value.Path, errors);
            }
        }
    }

    private void Instance(string section, string feature, string path, ImmutableArray<ConfigError> errors)
    {
        if (!_sections.TryGetValue(section, out var features))
        {
            _sections[section] = features = new(StringComparer.Ordinal);
        }
        if (!features.TryGetValue(feature, out Tally? t))
        {
            features[feature] = t = new Tally();
        }
        t.Seen++;
        bool rejected = false;
        foreach (ConfigError e in errors)
        {
            if (e.Path == path || e.Path.StartsWith(path + ".", StringComparison.Ordinal) || e.Path.StartsWith(path + "[", StringComparison.Ordinal))
            {
                rejected = true;
                string where = e.Path.Length > path.Length ? e.Path[path.Length..].TrimStart('.') + ": " : "";
                string reason = Shorten(where + e.Message);
                t.Reasons[reason] = t.Reasons.GetValueOrDefault(reason) + 1;
            }
        }
        t.Accepted += rejected ? 0 : 1;
    }

    /// <summary>Reasons without list indexes, so that the same reason at [0] and [3] counts once.</summary>
    private static string Shorten(string reason)
    {
        StringBuilder sb = new(reason.Length);
        for (int i = 0; i < reason.Length; i++)
        {
            if (reason[i] == '[' && i + 1 < reason.Length && char.IsAsciiDigit(reason[i + 1]))
            {
                while (i < reason.Length && reason[i] != ']')
                {
                    i++;
                }
                sb.Append("[]");
                continue;
            }
            sb.Append(reason[i]);
        }
        string s = sb.ToString();
        return s.Length > 110 ? s[..110] + "…" : s;
    }

    private static IEnumerable<ConfigNode> Items(ConfigNode? node) => node is ConfigList l ? l.Items : [];

    /// <summary>The extension's typed_config message name (what Envoy selects by), else its name.</summary>
    public static string ExtensionId(ConfigNode? entry)
    {
        if (entry is not ConfigMap m)
        {
            return "?";
        }
        if (m.Get("typed_config") is ConfigMap tc && tc.Get("@type") is ConfigScalar t)
        {
            string type = t.Text[(t.Text.LastIndexOf('/') + 1)..];
            // A TypedStruct wraps the real type (istio's peer_metadata filter, for one).
            return tc.Get("type_url") is ConfigScalar inner ? type + "→" + inner.Text[(inner.Text.LastIndexOf('/') + 1)..] : type;
        }
        if (m.Get("@type") is ConfigScalar direct)
        {
            return direct.Text[(direct.Text.LastIndexOf('/') + 1)..];
        }
        if (m.Get("config_discovery") is not null)
        {
            return (m.Get("name") is ConfigScalar n ? n.Text : "?") + " (ECDS)";
        }
        return m.Get("name") is ConfigScalar name ? name.Text : "?";
    }

    internal sealed class Tally
    {
        public int Seen { get; set; }
        public int Accepted { get; set; }
        public Dictionary<string, int> Reasons { get; } = new(StringComparer.Ordinal);
    }
}
