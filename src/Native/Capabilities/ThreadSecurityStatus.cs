using System.Globalization;

namespace Sidecar.Native.Capabilities;

/// <summary>
/// The security lines of one task's /proc status (proc(5)): CapInh/CapPrm/CapEff/CapBnd/CapAmb as
/// hex masks, NoNewPrivs, and Seccomp (0 off, 1 strict, 2 filter). Reading another task's status
/// needs no privilege, so it is also how tests look at a running proxy from outside.
/// </summary>
public readonly record struct ThreadSecurityStatus(
    CapabilitySet Inheritable,
    CapabilitySet Permitted,
    CapabilitySet Effective,
    CapabilitySet Bounding,
    CapabilitySet Ambient,
    bool NoNewPrivileges,
    int SeccompMode)
{
    /// <summary>Parses the text of a status file; missing lines read as empty/zero.</summary>
    public static ThreadSecurityStatus Parse(string statusText)
    {
        ulong inh = 0, prm = 0, eff = 0, bnd = 0, amb = 0;
        bool nnp = false;
        int seccomp = 0;
        foreach (string line in statusText.Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            ReadOnlySpan<char> value = line.AsSpan(colon + 1).Trim();
            switch (line.AsSpan(0, colon))
            {
                case "CapInh": inh = Hex(value); break;
                case "CapPrm": prm = Hex(value); break;
                case "CapEff": eff = Hex(value); break;
                case "CapBnd": bnd = Hex(value); break;
                case "CapAmb": amb = Hex(value); break;
                case "NoNewPrivs": nnp = value is "1"; break;
                case "Seccomp": seccomp = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int m) ? m : 0; break;
            }
        }

        return new ThreadSecurityStatus(new(inh), new(prm), new(eff), new(bnd), new(amb), nnp, seccomp);
    }

    /// <summary>Every thread of process <paramref name="pid"/> ("self" for this one), by tid.</summary>
    public static List<(int Tid, ThreadSecurityStatus Status)> ReadAllThreads(string pid)
    {
        var result = new List<(int, ThreadSecurityStatus)>();
        foreach (string dir in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
            {
                continue;
            }

            try
            {
                result.Add((tid, Parse(File.ReadAllText(Path.Combine(dir, "status")))));
            }
            catch (IOException)
            {
                // The thread exited between listing and reading: nothing left to check.
            }
        }

        return result;
    }

    private static ulong Hex(ReadOnlySpan<char> value) =>
        ulong.TryParse(value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong v) ? v : 0;
}
