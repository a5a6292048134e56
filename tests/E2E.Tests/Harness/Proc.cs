using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Sidecar.E2E.Tests.Harness;

public sealed record ProcResult(int ExitCode, string StdOut, string StdErr, bool TimedOut)
{
    public override string ToString() =>
        $"exit={ExitCode} timedOut={TimedOut}\n--- stdout ---\n{Tail(StdOut)}\n--- stderr ---\n{Tail(StdErr)}";

    internal static string Tail(string s, int max = 8000) => s.Length <= max ? s : "…" + s[^max..];
}

public static partial class Proc
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    public const int SIGTERM = 15, SIGKILL = 9, SIGINT = 2;

    public static void Signal(int pid, int sig) => kill(pid, sig);

    /// <summary>Run a command to completion (bounded by timeout), capturing output.</summary>
    public static async Task<ProcResult> Run(string file, IEnumerable<string> args, TimeSpan timeout,
        string? stdin = null, string? workDir = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin != null,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (stdin != null)
        {
            await p.StandardInput.WriteAsync(stdin);
            p.StandardInput.Close();
        }
        using var cts = new CancellationTokenSource(timeout);
        var timedOut = false;
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            timedOut = true;
            try { p.Kill(entireProcessTree: true); } catch (Exception) { }
            await p.WaitForExitAsync();
        }
        return new ProcResult(timedOut ? -1 : p.ExitCode, await so, await se, timedOut);
    }

    public static Task<ProcResult> Curl(params string[] args) =>
        Run(TestEnv.Tool("curl", "curl"), ["-sS", "--max-time", "60", .. args], TimeSpan.FromSeconds(90));
}

/// <summary>A long-running child process whose output is captured; SIGTERM then SIGKILL on dispose.</summary>
public sealed class BackgroundProcess : IDisposable
{
    private readonly Process _p;
    private readonly StringBuilder _out = new();
    private readonly object _lock = new();
    public string Name { get; }

    public BackgroundProcess(string name, string file, IEnumerable<string> args, string? workDir = null,
        IDictionary<string, string>? env = null)
    {
        Name = name;
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env != null) foreach (var kv in env) psi.Environment[kv.Key] = kv.Value;
        _p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        _p.OutputDataReceived += (_, e) => Append("out", e.Data);
        _p.ErrorDataReceived += (_, e) => Append("err", e.Data);
        _p.Start();
        _p.BeginOutputReadLine();
        _p.BeginErrorReadLine();
    }

    private void Append(string stream, string? line)
    {
        if (line == null) return;
        lock (_lock)
        {
            if (_out.Length < 1_000_000) _out.Append('[').Append(stream).Append("] ").AppendLine(line);
        }
    }

    public int Pid => _p.Id;
    public bool HasExited => _p.HasExited;
    public int ExitCode => _p.ExitCode;

    public string Output { get { lock (_lock) return _out.ToString(); } }

    public void Signal(int sig) { if (!_p.HasExited) Proc.Signal(_p.Id, sig); }

    public async Task<bool> WaitForExit(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _p.WaitForExitAsync(cts.Token); return true; }
        catch (OperationCanceledException) { return false; }
    }

    /// <summary>Resident set size in KiB from /proc/PID/status (0 if gone).</summary>
    public long RssKb()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_p.Id}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0]);
        }
        catch (Exception) { }
        return 0;
    }

    public void Dispose()
    {
        try
        {
            if (!_p.HasExited)
            {
                Proc.Signal(_p.Id, Proc.SIGTERM);
                if (!_p.WaitForExit(3000))
                {
                    _p.Kill(entireProcessTree: true);
                    _p.WaitForExit(3000);
                }
            }
        }
        catch (Exception) { }
        _p.Dispose();
    }
}
