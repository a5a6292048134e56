using System.Diagnostics;
using System.Net.Sockets;
using Sidecar.E2E.Tests.Harness;
using Xunit.Abstractions;

namespace Sidecar.Native.Tests.Confinement;

/// <summary>
/// The published proxy started with an optional launcher in front (the seccomp-profile launcher)
/// and extra environment, waited on until admin /ready answers 200. Dispose stops it (SIGTERM,
/// then SIGKILL) and writes its output to the test log.
/// </summary>
public sealed class ConfinedSidecar : IDisposable
{
    private readonly ITestOutputHelper _output;

    private ConfinedSidecar(BackgroundProcess process, TempDir dir, ITestOutputHelper output)
    {
        Process = process;
        Dir = dir;
        _output = output;
    }

    public BackgroundProcess Process { get; }

    public TempDir Dir { get; }

    public int Pid => Process.Pid;

    public static async Task<ConfinedSidecar> Start(SidecarConfig config, ITestOutputHelper output, string[] proxyArgs,
        (string File, string[] Args)? launcher = null, IDictionary<string, string>? env = null)
    {
        string bin = TestEnv.RequireSidecar();
        var dir = TestEnv.NewTempDir("confine");
        string path = dir.File("envoy.yaml");
        File.WriteAllText(path, config.ToYaml());
        string[] sidecar = [bin, "proxy", "--config", path, .. proxyArgs];
        BackgroundProcess p = launcher is { } l
            ? new BackgroundProcess("sidecar", l.File, [.. l.Args, .. sidecar], dir.Path, env)
            : new BackgroundProcess("sidecar", bin, sidecar[1..], dir.Path, env);
        var started = new ConfinedSidecar(p, dir, output);
        var sw = Stopwatch.StartNew();
        string last = "no response";
        while (sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (p.HasExited)
            {
                string msg = $"sidecar exited with code {p.ExitCode} before /ready\n{p.Output}";
                started.Dispose();
                throw new InvalidOperationException(msg);
            }

            try
            {
                var r = await RawHttp.Exchange(config.AdminPort, "GET /ready HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n", TimeSpan.FromSeconds(2));
                if (r.Status == 200)
                {
                    return started;
                }

                last = r.Head;
            }
            catch (Exception e) when (e is SocketException or IOException or TimeoutException or OperationCanceledException or FormatException)
            {
                last = e.GetType().Name + ": " + e.Message;
            }

            await Task.Delay(50);
        }

        string timeout = $"sidecar not ready within 30 s (last: {last})\n{p.Output}";
        started.Dispose();
        throw new InvalidOperationException(timeout);
    }

    public void Dispose()
    {
        Process.Dispose();
        try
        {
            _output.WriteLine($"--- sidecar output (pid {Process.Pid}) ---\n{ProcResult.Tail(Process.Output, 6000)}");
        }
        catch (InvalidOperationException)
        {
            // no active test
        }

        Dir.Dispose();
    }
}
