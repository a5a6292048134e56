using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>
/// A @grpc/grpc-js client and server (peers/grpc, packages pinned and installed into .cache/grpc-peer by
/// peers/grpc/install.sh) talking through the sidecar with HTTP/2 on both sides.
/// </summary>
public sealed class Http2GrpcTests(ITestOutputHelper output)
{
    private static string GrpcDir => Path.Combine(TestEnv.PeersDir, "grpc");

    private static async Task<Dictionary<string, string>> NodeEnv()
    {
        var install = await Proc.Run("/bin/bash", [Path.Combine(GrpcDir, "install.sh"), TestEnv.RepoRoot], TimeSpan.FromMinutes(6));
        Assert.True(install.ExitCode == 0, "grpc peer packages could not be installed (needs npm and network):\n" + install);
        return new() { ["NODE_PATH"] = Path.Combine(TestEnv.RepoRoot, ".cache", "grpc-peer", "node_modules") };
    }

    /// <summary>The node gRPC server and a sidecar whose only route goes to it over h2 (cluster "grpc").</summary>
    private async Task<(Dictionary<string, string> Env, string Node, BackgroundProcess Server, SidecarProcess Sidecar, int Port, int GrpcPort)> Start()
    {
        var env = await NodeEnv();
        var node = TestEnv.Tool("node", "nodejs");
        var grpcPort = TestEnv.FreePort();
        var server = new BackgroundProcess("grpc-server", node, [Path.Combine(GrpcDir, "server.js"), grpcPort.ToString()], env: env);
        if (!await TestEnv.WaitForPort(grpcPort, TimeSpan.FromSeconds(20), () => server.HasExited))
        {
            var o = server.Output; server.Dispose();
            throw new InvalidOperationException("grpc server did not start:\n" + o);
        }
        var cfg = new SidecarConfig();
        var port = cfg.AddHttpListener([new RouteSpec("/", "grpc")], statPrefix: "grpc_in");
        cfg.AddCluster(new ClusterSpec("grpc", grpcPort, Http2: true));
        try { return (env, node, server, await SidecarProcess.Start(cfg, output), port, grpcPort); }
        catch (Exception) { server.Dispose(); throw; }
    }

    [Fact]
    public async Task Unary_streaming_bidi_deadline_and_error_status_pass_through()
    {
        var (env, node, server, sc, port, _) = await Start();
        using var _server = server;
        using var _sc = sc;

        var psiEnv = string.Join(' ', env.Select(kv => $"{kv.Key}={kv.Value}"));
        var r = await Proc.Run("/usr/bin/env", [psiEnv, node, Path.Combine(GrpcDir, "client.js"), $"127.0.0.1:{port}"], TimeSpan.FromSeconds(60));
        output.WriteLine(r.ToString());
        Assert.True(r.ExitCode == 0, r.ToString() + server.Output);
        var lines = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("unary ok hello grpc", lines[0]);
        Assert.Equal("count ok 200 true", lines[1]);
        Assert.Equal("chat ok 50 true", lines[2]);
        Assert.StartsWith("deadline error 4 ", lines[3]); // DEADLINE_EXCEEDED
        Assert.Equal("after-deadline ok still here", lines[4]);
        Assert.Equal("fail error 3 bad request: 100% wrong", lines[5]); // INVALID_ARGUMENT, percent-encoded message intact
        Assert.Equal(6, lines.Length);

        var stats = await sc.Stats();
        Assert.True(long.Parse(stats["http.grpc_in.downstream_rq_http2_total"]) >= 5, "downstream_rq_http2_total " + stats["http.grpc_in.downstream_rq_http2_total"]);
        Assert.False(sc.Process.HasExited);
    }

    [Fact]
    public async Task Error_status_arrives_as_an_unchanged_trailers_only_response()
    {
        var (_, _, server, sc, port, grpcPort) = await Start();
        using var _server = server;
        using var _sc = sc;
        using var dir = TestEnv.NewTempDir("grpc-raw");
        // one length-prefixed message (gRPC over HTTP/2 §Length-Prefixed-Message): Msg { text = "x y%" }
        File.WriteAllBytes(dir.File("req"), [0, 0, 0, 0, 6, 0x0a, 4, (byte)'x', (byte)' ', (byte)'y', (byte)'%']);
        var nghttp = TestEnv.Tool("nghttp", "nghttp2-client");
        async Task<string> Call(int p)
        {
            var r = await Proc.Run(nghttp, ["-v", "-t", "20", "-d", dir.File("req"), "-H", "content-type: application/grpc", "-H", "te: trailers",
                $"http://127.0.0.1:{p}/e2e.Echo/Fail"], TimeSpan.FromSeconds(30));
            Assert.True(r.ExitCode == 0, r.ToString());
            return r.StdOut;
        }
        string Fields(string v) => string.Join('\n', v.Split('\n').Where(l => l.Contains("recv (stream_id=13) grpc-") || l.Contains("recv (stream_id=13) :status"))
            .Select(l => l[(l.IndexOf("recv", StringComparison.Ordinal))..].Trim()));
        var direct = await Call(grpcPort);
        var proxied = await Call(port);
        output.WriteLine(proxied);
        Assert.Contains("grpc-status: 3", Fields(proxied));
        Assert.Equal(Fields(direct), Fields(proxied));
        // trailers-only: a single HEADERS frame with END_STREAM|END_HEADERS and no DATA
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(proxied, @"recv HEADERS frame <[^>]*stream_id=13>"));
        Assert.Matches(@"recv HEADERS frame <[^>]*flags=0x05, stream_id=13>", proxied);
        Assert.DoesNotContain("recv DATA frame", proxied);
    }
}
