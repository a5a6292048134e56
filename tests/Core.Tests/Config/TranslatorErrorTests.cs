using Sidecar.Core.Config;
using Sidecar.Core.Config.Model;
using Xunit;

namespace Sidecar.Core.Tests.Config;

/// <summary>Strictness: every unsupported or bad field is an error naming its path; all errors are collected.</summary>
public sealed class TranslatorErrorTests
{
    private const string L = "static_resources.listeners[0]";
    private const string Tc = L + ".filter_chains[0].filters[0].typed_config";
    private const string Vh = Tc + ".route_config.virtual_hosts[0]";
    private const string R = Vh + ".routes[0]";
    private const string C = "static_resources.clusters[0]";

    /// <summary>A valid config in YAML flow style; each __X__ marker can receive ", field: value" fragments.</summary>
    private static string Config(string root = "", string listener = "", string chain = "", string hcm = "", string vhost = "",
        string route = "", string match = "", string action = "route: { cluster: c }", string cluster = "", string filters = "[{ name: envoy.filters.http.router }]") => $$"""
        {
          static_resources: {
            listeners: [{ name: l, address: { socket_address: { address: 0.0.0.0, port_value: 80 } }{{listener}},
              filter_chains: [{ filters: [{ name: envoy.filters.network.http_connection_manager, typed_config: {
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager,
                stat_prefix: s{{hcm}},
                route_config: { virtual_hosts: [{ name: v, domains: ["*"]{{vhost}},
                  routes: [{ match: { prefix: / {{match}} }, {{action}}{{route}} }] }] },
                http_filters: {{filters}} } }]{{chain}} }] }],
            clusters: [{ name: c, type: STATIC{{cluster}},
              load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 10.0.0.1, port_value: 80 } } } }] }] } }]
          }{{root}}
        }
        """;

    private static ConfigError FirstError(string yaml)
    {
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(yaml, isJson: false);
        Assert.False(r.IsSuccess, "expected the config to be refused");
        return r.Errors[0];
    }

    private static void AssertError(string yaml, string path, string message)
    {
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(yaml, isJson: false);
        Assert.False(r.IsSuccess, "expected the config to be refused");
        Assert.Contains(r.Errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void BaseConfigIsValid()
    {
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(Config(), isJson: false);
        Assert.True(r.IsSuccess, ConfigErrorFormatter.Format(r.Errors));
    }

    [Fact]
    public void UnknownTypedConfigFieldIsUnsupportedWithItsPath()
    {
        ConfigError e = FirstError(Config(hcm: ", foo: 1"));
        Assert.Equal(Tc + ".foo", e.Path);
        Assert.Equal("unsupported field", e.Message);
        Assert.Equal(Tc + ".foo: unsupported field", ConfigErrorFormatter.FormatOne(e));
    }

    [Theory]
    [InlineData("root", ", dynamic_resources: {}", "dynamic_resources", "unsupported")]
    [InlineData("root", ", layered_runtime: {}", "layered_runtime", "unsupported field")]
    [InlineData("chain", ", transport_socket: { name: envoy.transport_sockets.alts }", L + ".filter_chains[0].transport_socket", "transport socket envoy.transport_sockets.alts")]
    [InlineData("listener", ", listener_filters: [{ name: envoy.filters.listener.proxy_protocol }]", L + ".listener_filters[0]", "listener filter envoy.filters.listener.proxy_protocol")]
    [InlineData("hcm", ", rds: {}", Tc + ".rds", "unsupported field")]
    [InlineData("route", ", typed_per_filter_config: {}", R + ".typed_per_filter_config", "typed_per_filter_config")]
    [InlineData("match", ", grpc: {}", R + ".match.grpc", "gRPC")]
    [InlineData("action", "route: { cluster: c, request_mirror_policies: [] }", R + ".route.request_mirror_policies", "mirroring")]
    [InlineData("action", "route: { cluster: c, retry_policy: { retry_on: \"5xx,retriable-4xx\" } }", R + ".route.retry_policy.retry_on", "retriable-4xx")]
    [InlineData("action", "route: { cluster: c, upgrade_configs: [{ upgrade_type: spdy/3.1 }] }", R + ".route.upgrade_configs[0].upgrade_type", "spdy/3.1")]
    [InlineData("cluster", ", transport_socket: { name: envoy.transport_sockets.tap, typed_config: { \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tap.v3.Tap } }", C + ".transport_socket", "transport socket envoy.extensions.transport_sockets.tap.v3.Tap")]
    [InlineData("cluster", ", health_checks: []", C + ".health_checks", "health")]
    [InlineData("cluster", ", lb_policy: RING_HASH", C + ".lb_policy", "unsupported value \"RING_HASH\"")]
    [InlineData("cluster", ", circuit_breakers: { thresholds: [{ priority: MEDIUM }] }", C + ".circuit_breakers.thresholds[0].priority", "MEDIUM")]
    [InlineData("cluster", ", typed_extension_protocol_options: { envoy.extensions.upstreams.http.v3.HttpProtocolOptions: { \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: { http2_protocol_options: { max_concurrent_streams: 0 } } } }",
        C + ".typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"].explicit_http_config.http2_protocol_options.max_concurrent_streams", "must be between 1 and")]
    [InlineData("cluster", ", typed_extension_protocol_options: { envoy.extensions.upstreams.http.v3.HttpProtocolOptions: { \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: { http2_protocol_options: { allow_metadata: true } } } }",
        C + ".typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"].explicit_http_config.http2_protocol_options.allow_metadata", "unsupported field")]
    public void UnsupportedFeaturesNameTheirPath(string where, string fragment, string path, string message)
    {
        string yaml = where switch
        {
            "root" => Config(root: fragment),
            "listener" => Config(listener: fragment),
            "chain" => Config(chain: fragment),
            "hcm" => Config(hcm: fragment),
            "route" => Config(route: fragment),
            "match" => Config(match: fragment),
            "action" => Config(action: fragment),
            _ => Config(cluster: fragment),
        };
        AssertError(yaml, path, message);
    }

    [Fact]
    public void HttpFiltersOtherThanRouterAreRefusedAndRouterMustBeLast()
    {
        AssertError(Config(filters: "[{ name: envoy.filters.http.ext_authz, typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz } }, { name: envoy.filters.http.router }]"),
            Tc + ".http_filters[0]", "http filter envoy.extensions.filters.http.ext_authz.v3.ExtAuthz: external authorization");
        AssertError(Config(filters: "[{ name: envoy.filters.http.router }, { name: envoy.filters.http.cors }]"), Tc + ".http_filters[0]", "must be the last");
        AssertError(Config(filters: "[]"), Tc + ".http_filters", "must end with envoy.filters.http.router");
    }

    [Theory]
    [InlineData("action", "route: { cluster: c, timeout: 5 }", R + ".route.timeout", "expected a duration")]
    [InlineData("action", "route: { cluster: c, timeout: \"-1s\" }", R + ".route.timeout", "expected a duration")]
    [InlineData("action", "route: { cluster: nope }", R + ".route.cluster", "unknown cluster \"nope\"")]
    [InlineData("action", "route: { weighted_clusters: { clusters: [{ name: c, weight: 0 }] } }", R + ".route.weighted_clusters.clusters[0].weight", "out of range")]
    [InlineData("action", "direct_response: { status: 700 }", R + ".direct_response.status", "out of range")]
    [InlineData("action", "redirect: { response_code: 302 }", R + ".redirect.response_code", "unsupported value")]
    [InlineData("action", "route: { cluster: c }, redirect: { https_redirect: true }", R, "exactly one of route, redirect and direct_response")]
    [InlineData("match", ", path: /x", R + ".match", "exactly one of prefix, path")]
    [InlineData("match", ", headers: [{ name: x, safe_regex_match: { regex: \"(a\" } }]", R + ".match.headers[0].safe_regex_match.regex", "invalid regex")]
    [InlineData("match", ", headers: [{ name: x, exact_match: a, prefix_match: b }]", R + ".match.headers[0]", "at most one")]
    [InlineData("match", ", headers: [{ name: \"bad name\" }]", R + ".match.headers[0].name", "invalid header name")]
    [InlineData("vhost", ", request_headers_to_add: [{ header: { key: x, value: \"a\\r\\nb\" } }]", Vh + ".request_headers_to_add[0].header", "CR, LF")]
    [InlineData("vhost", ", request_headers_to_add: [{ header: { key: x, value: a }, append: true, append_action: ADD_IF_ABSENT }]", Vh + ".request_headers_to_add[0].append", "mutually exclusive")]
    [InlineData("hcm", ", codec_type: HTTP3", Tc + ".codec_type", "unsupported value")]
    [InlineData("hcm", ", use_remote_address: yes", Tc + ".use_remote_address", "expected true or false")]
    [InlineData("hcm", ", max_request_headers_kb: 9000", Tc + ".max_request_headers_kb", "out of range")]
    [InlineData("cluster", ", connect_timeout: 1", C + ".connect_timeout", "expected a duration")]
    [InlineData("cluster", ", lb_policy: CLUSTER_PROVIDED", C + ".lb_policy", "ORIGINAL_DST")]
    [InlineData("listener", ", per_connection_buffer_limit_bytes: -1", L + ".per_connection_buffer_limit_bytes", "out of range")]
    public void BadValuesNameTheirPath(string where, string fragment, string path, string message)
    {
        string yaml = where switch
        {
            "action" => Config(action: fragment),
            "match" => Config(match: fragment),
            "vhost" => Config(vhost: fragment),
            "hcm" => Config(hcm: fragment),
            "listener" => Config(listener: fragment),
            _ => Config(cluster: fragment),
        };
        AssertError(yaml, path, message);
    }

    [Fact]
    public void PortsMustBeInRange()
    {
        string yaml = Config();
        int first = yaml.IndexOf("port_value: 80", StringComparison.Ordinal);
        AssertError(yaml[..first] + "port_value: 0" + yaml[(first + 14)..], L + ".address.socket_address.port_value", "out of range");
        int last = yaml.LastIndexOf("port_value: 80", StringComparison.Ordinal);
        AssertError(yaml[..last] + "port_value: 70000" + yaml[(last + 14)..],
            C + ".load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value", "out of range");
    }

    [Fact]
    public void StaticEndpointsMustBeIpLiterals()
    {
        AssertError(Config().Replace("address: 10.0.0.1", "address: backend.local", StringComparison.Ordinal),
            C + ".load_assignment.endpoints[0].lb_endpoints[0].endpoint.address", "must be IP literals");
        ConfigResult<BootstrapModel> dns = ConfigLoader.LoadText(
            Config().Replace("address: 10.0.0.1", "address: backend.local", StringComparison.Ordinal).Replace("type: STATIC", "type: STRICT_DNS", StringComparison.Ordinal), isJson: false);
        Assert.True(dns.IsSuccess, ConfigErrorFormatter.Format(dns.Errors));
    }

    [Fact]
    public void EdsClustersAreRefusedInStaticConfig() =>
        AssertError(Config().Replace("type: STATIC", "type: EDS", StringComparison.Ordinal), C + ".type", "unsupported value \"EDS\"");

    [Fact]
    public void ListenerAddressMustBeAnIpLiteral() =>
        AssertError(Config().Replace("address: 0.0.0.0", "address: localhost", StringComparison.Ordinal), L + ".address", "IP literal");

    [Fact]
    public void DomainsMustBeUniqueAcrossVirtualHosts()
    {
        string yaml = Config().Replace(
            "virtual_hosts: [{ name: v, domains: [\"*\"],",
            "virtual_hosts: [{ name: w, domains: [\"a.com\"], routes: [] }, { name: v, domains: [\"*\", \"A.com\"],",
            StringComparison.Ordinal);
        AssertError(yaml, Tc + ".route_config.virtual_hosts[1].domains[1]", "already used by virtual host \"w\"");
    }

    [Fact]
    public void DuplicateListenerAndClusterNamesAreErrors()
    {
        const string tcpListener = "{ name: l, address: { socket_address: { address: 0.0.0.0, port_value: 81 } }, filter_chains: [{ filters: [{ name: t, typed_config: "
            + "{ \"@type\": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: c } }] }] }, ";
        AssertError(Config().Replace("listeners: [", "listeners: [" + tcpListener, StringComparison.Ordinal), "static_resources.listeners[1]", "duplicate listener name \"l\"");
        const string cluster = "{ name: c, type: ORIGINAL_DST, lb_policy: CLUSTER_PROVIDED }, ";
        AssertError(Config().Replace("clusters: [", "clusters: [" + cluster, StringComparison.Ordinal), "static_resources.clusters[1]", "duplicate cluster name \"c\"");
    }

    [Fact]
    public void EveryErrorIsCollectedInDocumentOrder()
    {
        ConfigResult<BootstrapModel> r = ConfigLoader.LoadText(
            Config(listener: ", zzz: 1", hcm: ", foo: 1, codec_type: HTTP3", action: "route: { cluster: nope }", cluster: ", bar: 2"), isJson: false);
        Assert.Equal(
            [L + ".zzz", Tc + ".foo", Tc + ".codec_type", R + ".route.cluster", C + ".bar"],
            r.Errors.Select(e => e.Path).ToArray());
    }

    [Fact]
    public void CamelAndSnakeSpellingOfOneFieldTogetherIsAnError() =>
        AssertError(Config(hcm: ", statPrefix: t"), Tc + ".statPrefix", "field given twice");

    [Fact]
    public void MissingFileAndBadSyntaxAreErrorsNotExceptions()
    {
        ConfigResult<BootstrapModel> missing = ConfigLoader.LoadFile("/nonexistent/envoy.yaml");
        Assert.Contains("cannot read", Assert.Single(missing.Errors).Message, StringComparison.Ordinal);
        Assert.False(ConfigLoader.LoadText("{ \"a\": ").IsSuccess);
        Assert.Equal("(root): expected an object", ConfigErrorFormatter.FormatOne(Assert.Single(ConfigLoader.LoadText("- 1\n- 2\n").Errors)));
    }

    [Fact]
    public void FormatterPrintsOneLinePerError()
    {
        string text = ConfigErrorFormatter.Format([new ConfigError("a.b", "bad"), new ConfigError("c", "worse")]);
        Assert.Equal("a.b: bad\nc: worse\n", text);
    }
}
