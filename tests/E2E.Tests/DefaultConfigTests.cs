using System.Net;
using System.Net.Sockets;
using Sidecar.E2E.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Sidecar.E2E.Tests;

/// <summary>`sidecar proxy` with no --config uses the embedded default: :10000 → :10001, admin :15000 (what README's demo shows).</summary>
public sealed class DefaultConfigTests
{
    private readonly ITestOutputHelper _out;
    public DefaultConfigTests(ITestOutputHelper output) => _out = output;

    private static void RequireFree(int port)
    {
        try
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"port {port} is in use (is `./build.sh demo` running?): {e.Message}");
        }
    }

    [Fact]
    public async Task Embedded_default_config_proxies_10000_to_10001()
    {
        var bin = TestEnv.RequireSidecar();
        var nginxBin = TestEnv.Tool("nginx", "nginx-light");
        foreach (var p in new[] { 10000, 10001, 15000 }) RequireFree(p);
        using var dir = TestEnv.NewTempDir("default");
        File.WriteAllText(dir.File("nginx.conf"), $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            error_log {{dir.Path}}/error.log;
            pid {{dir.Path}}/nginx.pid;
            events { worker_connections 64; }
            http {
              access_log {{dir.Path}}/access.log;
              client_body_temp_path {{dir.Path}}/cbt; proxy_temp_path {{dir.Path}}/pt; fastcgi_temp_path {{dir.Path}}/ft;
              uwsgi_temp_path {{dir.Path}}/ut; scgi_temp_path {{dir.Path}}/st;
              server { listen 127.0.0.1:10001; location / { default_type text/plain; return 200 "hello from upstream\n"; } }
            }
            """);
        using var nginx = new BackgroundProcess("nginx", nginxBin, ["-e", dir.File("error.log"), "-c", dir.File("nginx.conf"), "-p", dir.Path]);
        Assert.True(await TestEnv.WaitForPort(10001, TimeSpan.FromSeconds(10), () => nginx.HasExited), "nginx on 10001: " + nginx.Output);

        using var sidecar = new BackgroundProcess("sidecar", bin, ["proxy"], dir.Path);
        try
        {
            var ready = false;
            for (var i = 0; i < 150 && !ready && !sidecar.HasExited; i++)
            {
                try
                {
                    ready = (await RawHttp.Exchange(15000, "GET /ready HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", TimeSpan.FromSeconds(2))).Status == 200;
                }
                catch (Exception e) when (e is SocketException or IOException or OperationCanceledException) { }
                if (!ready) await Task.Delay(100);
            }
            Assert.True(ready, "sidecar with the embedded config never became ready on 127.0.0.1:15000");
            var r = await Proc.Curl("-s", "http://127.0.0.1:10000/");
            Assert.True(r.StdOut == "hello from upstream\n", r.ToString());
        }
        finally
        {
            sidecar.Dispose();
            _out.WriteLine("--- sidecar output ---\n" + sidecar.Output);
        }
    }
}
