using System.Net;
using System.Net.Sockets;

namespace Sidecar.E2E.Tests.Harness;

/// <summary>Locations of the binary under test, the peer scripts and the tools; free ports; temp dirs.</summary>
public static class TestEnv
{
    public static readonly bool IsCi =
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string SidecarBin =>
        Environment.GetEnvironmentVariable("SIDECAR_BIN") is { Length: > 0 } b ? b : Path.Combine(RepoRoot, "out", "sidecar");

    public static string PeersDir => Path.Combine(AppContext.BaseDirectory, "peers");

    /// <summary>Debian's python3 (has python3-websockets); the pyenv shim on PATH may not see Debian modules.</summary>
    public static string Python =>
        Environment.GetEnvironmentVariable("E2E_PYTHON") is { Length: > 0 } p ? p
        : File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Sidecar.sln")) || File.Exists(Path.Combine(d.FullName, "build.sh")))
                return d.FullName;
        }
        return Directory.GetCurrentDirectory();
    }

    /// <summary>Full path of a tool, or a test failure with an install hint (never a silent skip).</summary>
    public static string Tool(string name, string package)
    {
        if (name.Contains('/')) { return File.Exists(name) ? name : throw Missing(name, package); }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin"]))
        {
            if (dir.Length == 0) continue;
            var full = Path.Combine(dir, name);
            if (File.Exists(full)) return full;
        }
        throw Missing(name, package);
    }

    private static Exception Missing(string name, string package) =>
        new InvalidOperationException(
            $"required peer tool '{name}' not found (Debian package '{package}'); run `./build.sh setup`" +
            (IsCi ? " — CI must install it, tests are never skipped in CI" : ""));

    public static string RequireSidecar()
    {
        var bin = SidecarBin;
        if (!File.Exists(bin))
            throw new InvalidOperationException($"sidecar binary not found at {bin}; run `./build.sh publish` (or set SIDECAR_BIN)");
        return bin;
    }

    /// <summary>A currently free loopback TCP port (bind to port 0, read it, release it).</summary>
    public static int FreePort()
    {
        using var l = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        l.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)l.LocalEndPoint!).Port;
    }

    public static TempDir NewTempDir(string tag) => new(tag);

    /// <summary>Wait until something accepts TCP connections on 127.0.0.1:port.</summary>
    public static async Task<bool> WaitForPort(int port, TimeSpan timeout, Func<bool>? giveUp = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (giveUp?.Invoke() == true) return false;
            try
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                using var cts = new CancellationTokenSource(500);
                await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
                return true;
            }
            catch (Exception) { await Task.Delay(50); }
        }
        return false;
    }
}

public sealed class TempDir : IDisposable
{
    public string Path { get; }

    public TempDir(string tag)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sidecar-e2e-{tag}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(Path);
    }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("E2E_KEEP_TMP") == "1") return;
        try { Directory.Delete(Path, recursive: true); } catch (Exception) { /* best effort */ }
    }
}
