using System.Runtime.CompilerServices;

namespace Sidecar.Native.Capabilities;

/// <summary>Outcome of <see cref="ProcessCapabilities.DropOnAllThreads"/>, verified from /proc afterwards.</summary>
public readonly record struct CapabilityDropReport(
    CapabilitySet Kept,
    ThreadRestriction Caller,
    ThreadRestriction Finalizer,
    int Threads,
    int ThreadsAboveKept)
{
    /// <summary>Every thread of the process now holds at most <see cref="Kept"/>.</summary>
    public bool Complete => Caller.Succeeded && Finalizer.Succeeded && ThreadsAboveKept == 0;
}

/// <summary>
/// Drops capabilities process-wide. Credentials are per thread and capset(2) only changes the
/// caller (see <see cref="ThreadCapabilities"/>), while a new thread copies its creator's
/// credentials. So the drop runs while the process has as few threads as it will ever have: at
/// the start of <c>main</c> a native-AOT process has exactly two, the main thread and the runtime's
/// finalizer thread (measured: /proc/self/task at entry). The main thread restricts itself; the
/// finalizer thread is made to restrict itself by finalizing an object created for that purpose;
/// every thread started later (socket engine, thread pool, timers, signal handling) inherits the
/// reduced set. The alternative — a signal broadcast that makes each existing thread call capset,
/// as glibc's setxid does for setuid — would need a handler that runs outside the managed runtime.
/// Afterwards every task's /proc status is read back, so an unexpected extra thread is reported,
/// not assumed away.
/// </summary>
public static class ProcessCapabilities
{
    /// <summary>Call before anything starts threads (sockets, timers, tasks, signal registrations).</summary>
    public static CapabilityDropReport DropOnAllThreads(CapabilitySet keep)
    {
        int lastCap = ThreadCapabilities.LastCapability();
        ThreadRestriction caller = ThreadCapabilities.RestrictCurrentThread(keep, lastCap);
        ThreadRestriction finalizer = RunOnFinalizerThread(keep, lastCap);

        int threads = 0, above = 0;
        foreach ((int _, ThreadSecurityStatus status) in ThreadSecurityStatus.ReadAllThreads("self"))
        {
            threads++;
            if (!status.Effective.IsSubsetOf(keep) || !status.Permitted.IsSubsetOf(keep))
            {
                above++;
            }
        }

        return new CapabilityDropReport(keep, caller, finalizer, threads, above);
    }

    private static ThreadRestriction RunOnFinalizerThread(CapabilitySet keep, int lastCap)
    {
        var done = new FinalizerDrop.Outcome();
        Schedule(done, keep, lastCap);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return done.Result;
    }

    // Not inlined, so no reference to the dropper stays live in the caller's frame and the
    // collection above finds it unreachable.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Schedule(FinalizerDrop.Outcome done, CapabilitySet keep, int lastCap) => _ = new FinalizerDrop(done, keep, lastCap);

    private sealed class FinalizerDrop(FinalizerDrop.Outcome outcome, CapabilitySet keep, int lastCap)
    {
        public sealed class Outcome
        {
            // EAGAIN until the finalizer ran: "not done" must not read as success.
            public ThreadRestriction Result = new(0, 0, 11);
        }

        ~FinalizerDrop() => outcome.Result = ThreadCapabilities.RestrictCurrentThread(keep, lastCap);
    }
}
