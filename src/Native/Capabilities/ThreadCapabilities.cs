using System.Runtime.InteropServices;

namespace Sidecar.Native.Capabilities;

/// <summary>What one thread's restriction achieved; errno values are 0 when the step succeeded.</summary>
public readonly record struct ThreadRestriction(int BoundingErrno, int AmbientErrno, int CapsetErrno)
{
    public bool Succeeded => CapsetErrno == 0;
}

/// <summary>
/// The calling thread's capabilities. Linux keeps credentials per thread (task), and capset(2) may
/// only change the caller's own: since 2.6.24 a pid other than 0 or the caller's tid is EPERM
/// (kernel/capability.c). So "drop on every thread" cannot be done from one thread by tid; see
/// <see cref="ProcessCapabilities"/> for how the process gets every thread covered.
/// </summary>
public static class ThreadCapabilities
{
    /// <summary>Effective and permitted sets of the calling thread.</summary>
    public static unsafe bool TryRead(out CapabilitySet effective, out CapabilitySet permitted, out int errno)
    {
        var header = new CapabilityInterop.Header { Version = CapabilityInterop.Version3, Pid = 0 };
        CapabilityInterop.Data* data = stackalloc CapabilityInterop.Data[2];
        if (CapabilityInterop.capget(&header, data) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            effective = permitted = CapabilitySet.Empty;
            return false;
        }

        errno = 0;
        effective = new CapabilitySet(data[0].Effective | ((ulong)data[1].Effective << 32));
        permitted = new CapabilitySet(data[0].Permitted | ((ulong)data[1].Permitted << 32));
        return true;
    }

    /// <summary>
    /// Reduces the calling thread to <paramref name="keep"/> (intersected with what it has):
    /// bounding set first (dropping from it needs CAP_SETPCAP, which the capset below removes), then
    /// the ambient set, then effective = permitted = keep, inheritable = none. Clearing inheritable
    /// also clears ambient by the kernel's invariant (ambient ⊆ permitted ∩ inheritable), so the
    /// explicit ambient clear only matters if capset fails.
    /// </summary>
    public static unsafe ThreadRestriction RestrictCurrentThread(CapabilitySet keep, int lastCapability)
    {
        int boundingErrno = 0;
        for (int cap = 0; cap <= lastCapability; cap++)
        {
            if (keep.Contains(cap) || CapabilityInterop.prctl(CapabilityInterop.PrCapBsetRead, (ulong)cap, 0, 0, 0) != 1)
            {
                continue;
            }

            if (CapabilityInterop.prctl(CapabilityInterop.PrCapBsetDrop, (ulong)cap, 0, 0, 0) != 0 && boundingErrno == 0)
            {
                // Without CAP_SETPCAP (a non-root start) the bounding set cannot shrink; it only
                // matters at execve, which the seccomp filter refuses anyway.
                boundingErrno = Marshal.GetLastPInvokeError();
            }
        }

        int ambientErrno = CapabilityInterop.prctl(CapabilityInterop.PrCapAmbient, CapabilityInterop.PrCapAmbientClearAll, 0, 0, 0) == 0
            ? 0 : Marshal.GetLastPInvokeError();

        if (!TryRead(out _, out CapabilitySet permitted, out int readErrno))
        {
            return new ThreadRestriction(boundingErrno, ambientErrno, readErrno);
        }

        ulong kept = keep.Intersect(permitted).Bits;
        var header = new CapabilityInterop.Header { Version = CapabilityInterop.Version3, Pid = 0 };
        CapabilityInterop.Data* data = stackalloc CapabilityInterop.Data[2];
        data[0] = new CapabilityInterop.Data { Effective = (uint)kept, Permitted = (uint)kept, Inheritable = 0 };
        data[1] = new CapabilityInterop.Data { Effective = (uint)(kept >> 32), Permitted = (uint)(kept >> 32), Inheritable = 0 };
        int capsetErrno = CapabilityInterop.capset(&header, data) == 0 ? 0 : Marshal.GetLastPInvokeError();
        return new ThreadRestriction(boundingErrno, ambientErrno, capsetErrno);
    }

    /// <summary>/proc/sys/kernel/cap_last_cap, or 40 (CAP_CHECKPOINT_RESTORE, Linux 5.9+) when unreadable.</summary>
    public static int LastCapability()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").AsSpan().Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 40;
        }
    }
}
