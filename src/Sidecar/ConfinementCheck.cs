using Sidecar.Native.Capabilities;
using Sidecar.Native.Seccomp;

namespace Sidecar;

/// <summary>
/// <c>sidecar confinement-check</c>: "does this kernel and this node confine the proxy as
/// --seccomp would?" It confines itself exactly as the proxy does (no capabilities kept, the same
/// allow-list with TSYNC), then attempts what must be refused and reads back every thread's
/// /proc status. Exit 0 only if every attempt got EPERM and every thread is filtered and
/// capability-free. A wrongly allowed exec replaces the process with /bin/false: exit 1, no report.
/// </summary>
internal static class ConfinementCheck
{
    private const int EPerm = 1;

    public static int Run()
    {
        var confinement = Confinement.DropCapabilities(CapabilitySet.Empty);
        if (!confinement.LockDown())
        {
            return 1;
        }

        bool ok = true;
        ok &= Report("execve(/bin/false)", RefusalProbe.TryExec());
        ok &= Report("unshare(0)", RefusalProbe.TryUnshare());
        ok &= Report("setns(-1, 0)", RefusalProbe.TrySetns());

        int threads = 0, unfiltered = 0, privileged = 0;
        foreach ((int _, ThreadSecurityStatus status) in ThreadSecurityStatus.ReadAllThreads("self"))
        {
            threads++;
            if (status.SeccompMode != 2 || !status.NoNewPrivileges) unfiltered++;
            if (!status.Effective.IsEmpty || !status.Permitted.IsEmpty || !status.Ambient.IsEmpty) privileged++;
        }

        Console.WriteLine($"threads: {threads}, without the filter: {unfiltered}, holding capabilities: {privileged}");
        ok &= unfiltered == 0 && privileged == 0;
        Console.WriteLine(ok ? "confinement-check: OK" : "confinement-check: FAILED");
        return ok ? 0 : 1;
    }

    private static bool Report(string attempt, int errno)
    {
        bool refused = errno == EPerm;
        Console.WriteLine($"{attempt}: {(refused ? "refused (EPERM)" : errno == 0 ? "ALLOWED" : $"not refused by the filter (errno {errno})")}");
        return refused;
    }
}
