using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>
/// HCM path normalization through the published binary: curl --path-as-is sends the raw target, nginx echoes the
/// $request_uri it received, so the test sees exactly what the sidecar forwarded.
/// </summary>
public sealed class PathNormalizationTests : IClassFixture<UpstreamFixture>
{
    private readonly UpstreamPeers _peers;
    private readonly ITestOutputHelper _out;
    public PathNormalizationTests(UpstreamFixture f, ITestOutputHelper output) { _peers = f.Peers; _out = output; }

    private static string Listener(int port, string hcmOptions) => $$"""
  - name: paths_{{port}}
    address: { socket_address: { address: 127.0.0.1, port_value: {{port}} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: paths
{{hcmOptions}}
          route_config: { virtual_hosts: [{ name: all, domains: ["*"], routes: [{ match: { prefix: "/" }, route: { cluster: web } }] }] }
          http_filters: [{ name: envoy.filters.http.router, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } }]
""";

    private async Task<(int Port, SidecarProcess Sidecar)> Start(string hcmOptions)
    {
        var cfg = new SidecarConfig();
        int port = cfg.AddListenerYaml(p => Listener(p, hcmOptions));
        cfg.AddCluster(new ClusterSpec("web", _peers.NginxPort));
        return (port, await SidecarProcess.Start(cfg, _out));
    }

    /// <summary>Status code and body (nginx's $request_uri) for a raw target.</summary>
    private static async Task<(string Status, string Body)> Curl(int port, string target)
    {
        ProcResult r = await Proc.Curl("--path-as-is", "-w", "\n%{http_code}", $"http://127.0.0.1:{port}{target}");
        string[] lines = r.StdOut.TrimEnd('\n').Split('\n');
        return (lines[^1], string.Join('\n', lines[..^1]).TrimEnd('\n'));
    }

    [Fact]
    public async Task Istio_base_normalization_rewrites_what_nginx_receives()
    {
        var (port, sc) = await Start("          normalize_path: true\n          path_with_escaped_slashes_action: KEEP_UNCHANGED");
        using var _ = sc;
        Assert.Equal(("200", "/uri-echo/b"), await Curl(port, "/uri-echo/a/../b"));
        Assert.Equal(("200", "/uri-echo/b?q=/../x"), await Curl(port, "/uri-echo/a/./%2e%2E/b?q=/../x"));
        Assert.Equal(("200", "/uri-echo//x"), await Curl(port, "/uri-echo//x")); // BASE does not merge slashes
        Assert.Equal(("200", "/uri-echo/a%2Fb"), await Curl(port, "/uri-echo/a%2Fb")); // KEEP_UNCHANGED
        Assert.Equal(("200", "/uri-echo/abc"), await Curl(port, "/uri-echo/%61bc"));
        Assert.Equal("400", (await Curl(port, "/uri-echo/a%00b")).Status);
    }

    [Fact]
    public async Task Decode_and_merge_slashes_as_istio_configures_it()
    {
        var (port, sc) = await Start("          normalize_path: true\n          merge_slashes: true\n          path_with_escaped_slashes_action: UNESCAPE_AND_FORWARD");
        using var _ = sc;
        Assert.Equal(("200", "/uri-echo/x"), await Curl(port, "//uri-echo//x"));
        Assert.Equal(("200", "/uri-echo/a/b"), await Curl(port, "/uri-echo/a%2Fb"));
        Assert.Equal(("200", "/uri-echo/b"), await Curl(port, "/uri-echo/a%2F..%2Fb"));
    }

    [Fact]
    public async Task Reject_and_redirect_actions()
    {
        var (port, sc) = await Start("          normalize_path: true\n          path_with_escaped_slashes_action: REJECT_REQUEST");
        using (sc)
        {
            Assert.Equal("400", (await Curl(port, "/uri-echo/a%2Fb")).Status);
            Assert.Equal(("200", "/uri-echo/a/b"), await Curl(port, "/uri-echo/a/b"));
        }
        var (port2, sc2) = await Start("          normalize_path: true\n          path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT");
        using (sc2)
        {
            ProcResult r = await Proc.Curl("--path-as-is", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", $"http://127.0.0.1:{port2}/uri-echo/a%2Fb");
            Assert.Equal($"307 http://127.0.0.1:{port2}/uri-echo/a/b", r.StdOut);
        }
    }

    [Fact]
    public async Task Without_normalize_path_the_raw_target_is_forwarded()
    {
        var (port, sc) = await Start("");
        using var _ = sc;
        Assert.Equal(("200", "/uri-echo/a/../b"), await Curl(port, "/uri-echo/a/../b"));
    }
}
