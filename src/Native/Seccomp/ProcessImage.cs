using System.Runtime.InteropServices;

namespace Sidecar.Native.Seccomp;

/// <summary>
/// execve(2) with the current environment: replaces this process, keeping its pid and its seccomp
/// filter. The proxy never execs (its filter refuses it); this is how a launcher puts a program
/// under a seccomp profile it loaded, the way a container runtime does before starting the
/// container's process (the test harness for the runtimes' default profile uses it).
/// </summary>
public static unsafe partial class ProcessImage
{
    /// <summary>Returns only on failure, with the errno.</summary>
    public static int Replace(string path, IReadOnlyList<string> argv)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(argv);
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            env.Add($"{e.Key}={e.Value}");
        }

        nint pathPtr = Marshal.StringToCoTaskMemUTF8(path);
        nint* args = stackalloc nint[argv.Count + 1];
        nint* envp = (nint*)NativeMemory.Alloc((nuint)(env.Count + 1), (nuint)sizeof(nint));
        try
        {
            for (int i = 0; i < argv.Count; i++) args[i] = Marshal.StringToCoTaskMemUTF8(argv[i]);
            args[argv.Count] = 0;
            for (int i = 0; i < env.Count; i++) envp[i] = Marshal.StringToCoTaskMemUTF8(env[i]);
            envp[env.Count] = 0;
            execve(pathPtr, args, envp);
            return Marshal.GetLastPInvokeError();
        }
        finally
        {
            // Reached only when execve failed: the process image is still ours.
            Marshal.FreeCoTaskMem(pathPtr);
            for (int i = 0; i < argv.Count; i++) Marshal.FreeCoTaskMem(args[i]);
            for (int i = 0; i < env.Count; i++) Marshal.FreeCoTaskMem(envp[i]);
            NativeMemory.Free(envp);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int execve(nint path, nint* argv, nint* envp);
}
