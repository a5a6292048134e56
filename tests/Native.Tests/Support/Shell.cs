using System.Diagnostics;

namespace Sidecar.Native.Tests.Support;

/// <summary>Runs a command under coreutils <c>timeout</c> so a hung tool cannot hang the suite.</summary>
public static class Shell
{
    public static string Run(params string[] args) => RunWithTimeout(10, args);

    public static string RunWithTimeout(int seconds, params string[] args)
    {
        var psi = new ProcessStartInfo("timeout")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--kill-after=2");
        psi.ArgumentList.Add(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start timeout(1)");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"`{string.Join(' ', args)}` exited {p.ExitCode}: {stderr.Result.Trim()} {stdout.Result.Trim()}");
        }

        return stdout.Result;
    }
}
