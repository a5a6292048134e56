using System.Runtime.InteropServices;

namespace Sidecar.Native.Capabilities;

/// <summary>capget(2)/capset(2) and the capability prctl options (glibc exports capget/capset).</summary>
internal static partial class CapabilityInterop
{
    /// <summary>_LINUX_CAPABILITY_VERSION_3: two 32-bit words per set (capabilities 0–63).</summary>
    public const uint Version3 = 0x20080522;

    public const int PrCapBsetRead = 23;
    public const int PrCapBsetDrop = 24;
    public const int PrCapAmbient = 47;
    public const int PrCapAmbientClearAll = 4;

    [StructLayout(LayoutKind.Sequential)]
    public struct Header
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Data
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int capget(Header* header, Data* data);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int capset(Header* header, Data* data);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);
}
