using Sidecar.Native.Seccomp;

namespace Sidecar.Native.Tests.Confinement;

/// <summary>
/// The test assembly's entry point, used only as a launcher (xunit never calls it):
/// <c>dotnet Sidecar.Native.Tests.dll run-under-profile PROFILE.json PROGRAM [ARGS…]</c> loads the
/// profile as a container runtime would and execs PROGRAM under it, keeping the pid, so the test
/// sees the program itself. Not a product feature: the product binary never loads foreign profiles.
/// </summary>
public static class ProfileLauncher
{
    public const string Command = "run-under-profile";

    public static int Main(string[] args)
    {
        if (args.Length < 3 || args[0] != Command)
        {
            Console.Error.WriteLine($"usage: {Command} PROFILE.json PROGRAM [ARGS...]");
            return 2;
        }

        var profile = RuntimeSeccompProfile.Parse(File.ReadAllText(args[1]), RuntimeSeccompProfile.NativeGoArch, RuntimeSeccompProfile.KernelVersion());
        if (profile.Load(out int rules, out int unknown) is { } problem)
        {
            Console.Error.WriteLine($"launcher: {args[1]}: {problem}");
            return 1;
        }

        Console.Error.WriteLine($"launcher: {args[1]} loaded ({rules} rules, {unknown} unknown names, {profile.ConditionalEntriesSkipped} conditional entries left out); exec {args[2]}");
        int errno = ProcessImage.Replace(args[2], args[2..]);
        Console.Error.WriteLine($"launcher: execve {args[2]} failed (errno {errno})");
        return 1;
    }
}
