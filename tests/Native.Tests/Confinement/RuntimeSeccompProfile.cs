using System.Text.Json;
using Sidecar.Native.Seccomp;

namespace Sidecar.Native.Tests.Confinement;

/// <summary>
/// Loads an OCI/containers seccomp profile (the JSON that Debian's containers-common ships as
/// /usr/share/containers/seccomp.json, which podman/CRI-O use as RuntimeDefault) into a libseccomp
/// filter, the way a container runtime does before it starts the container process. The subset is
/// what that file uses: defaultAction (+defaultErrnoRet), syscalls[].names/action/errnoRet/args
/// (index, value, valueTwo, op), and includes/excludes by arches, caps and minKernel.
/// Choices, matching the runtimes: an entry whose includes are not met, or whose excludes are,
/// is left out; the container's capability set is <see cref="ContainerCapabilities"/> — empty by
/// default, as in Istio's istio-proxy container (capabilities drop ALL), so CAP_*-gated allowances
/// are left out and their "excludes caps" refusals kept; names this libseccomp does not know are
/// skipped; rules whose action equals the default are skipped (libseccomp rejects them with EACCES,
/// and they change nothing). Only the native architecture is loaded (archMap's sub-architectures
/// are not added): a 64-bit proxy never makes 32-bit syscalls, and libseccomp kills those anyway.
/// </summary>
public sealed class RuntimeSeccompProfile
{
    public required uint DefaultAction { get; init; }

    public required List<(string Name, uint Action, SeccompArgCondition[] Args)> Rules { get; init; }

    /// <summary>Entries left out by includes/excludes (for the log).</summary>
    public int ConditionalEntriesSkipped { get; init; }

    public static IReadOnlySet<string> ContainerCapabilities { get; set; } = new HashSet<string>(StringComparer.Ordinal);

    public static RuntimeSeccompProfile Parse(string json, string goArch, Version kernel)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement root = doc.RootElement;
        int defaultErrno = root.TryGetProperty("defaultErrnoRet", out JsonElement de) ? de.GetInt32() : SeccompAction.EPerm;
        uint defaultAction = Action(root.GetProperty("defaultAction").GetString()!, defaultErrno);
        var rules = new List<(string, uint, SeccompArgCondition[])>();
        int skipped = 0;
        foreach (JsonElement entry in root.GetProperty("syscalls").EnumerateArray())
        {
            if (!Applies(entry, goArch, kernel))
            {
                skipped++;
                continue;
            }

            int errno = entry.TryGetProperty("errnoRet", out JsonElement er) ? er.GetInt32() : SeccompAction.EPerm;
            uint action = Action(entry.GetProperty("action").GetString()!, errno);
            SeccompArgCondition[] args = entry.TryGetProperty("args", out JsonElement a) && a.ValueKind == JsonValueKind.Array
                ? a.EnumerateArray().Select(Arg).ToArray()
                : [];
            foreach (JsonElement name in entry.GetProperty("names").EnumerateArray())
            {
                rules.Add((name.GetString()!, action, args));
            }
        }

        return new RuntimeSeccompProfile { DefaultAction = defaultAction, Rules = rules, ConditionalEntriesSkipped = skipped };
    }

    /// <summary>Builds and loads the filter on every thread of this process. Returns a problem, or null.</summary>
    public string? Load(out int rulesAdded, out int namesUnknown)
    {
        rulesAdded = namesUnknown = 0;
        if (SeccompFilter.TryCreate(DefaultAction, out SeccompFilter? created) is var e && e != SeccompError.None || created is null)
        {
            return $"seccomp_init: {e}";
        }

        using SeccompFilter filter = created;
        if (filter.RequireThreadSync(out int syncErrno) != SeccompError.None)
        {
            return $"TSYNC unavailable (errno {syncErrno})";
        }

        foreach ((string name, uint action, SeccompArgCondition[] args) in Rules)
        {
            if (action == DefaultAction)
            {
                continue;
            }

            switch (filter.AddRule(name, action, args, out int errno))
            {
                case SeccompError.None: rulesAdded++; break;
                case SeccompError.UnknownSyscall: namesUnknown++; break;
                default: return $"rule {name} rejected (errno {errno})";
            }
        }

        return filter.Load(out int loadErrno) == SeccompError.None ? null : $"seccomp_load failed (errno {loadErrno})";
    }

    private static bool Applies(JsonElement entry, string goArch, Version kernel)
    {
        if (entry.TryGetProperty("includes", out JsonElement inc))
        {
            if (inc.TryGetProperty("arches", out JsonElement arches) && !arches.EnumerateArray().Any(x => x.GetString() == goArch)) return false;
            if (inc.TryGetProperty("caps", out JsonElement caps) && !caps.EnumerateArray().All(x => ContainerCapabilities.Contains(x.GetString()!))) return false;
            if (inc.TryGetProperty("minKernel", out JsonElement mk) && Version.TryParse(mk.GetString(), out Version? min) && kernel < min) return false;
        }

        if (entry.TryGetProperty("excludes", out JsonElement exc))
        {
            if (exc.TryGetProperty("arches", out JsonElement arches) && arches.EnumerateArray().Any(x => x.GetString() == goArch)) return false;
            if (exc.TryGetProperty("caps", out JsonElement caps) && caps.EnumerateArray().Any(x => ContainerCapabilities.Contains(x.GetString()!))) return false;
            if (exc.TryGetProperty("minKernel", out JsonElement mk) && Version.TryParse(mk.GetString(), out Version? min) && kernel >= min) return false;
        }

        return true;
    }

    private static uint Action(string name, int errno) => name switch
    {
        "SCMP_ACT_ALLOW" => SeccompAction.Allow,
        "SCMP_ACT_ERRNO" => SeccompAction.Errno(errno),
        "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD" => SeccompAction.KillThread,
        "SCMP_ACT_KILL_PROCESS" => SeccompAction.KillProcess,
        "SCMP_ACT_TRAP" => SeccompAction.Trap,
        "SCMP_ACT_LOG" => SeccompAction.Log,
        _ => throw new NotSupportedException($"seccomp action {name} is outside the supported subset"),
    };

    private static SeccompArgCondition Arg(JsonElement a) => new(
        a.GetProperty("index").GetUInt32(),
        a.GetProperty("op").GetString() switch
        {
            "SCMP_CMP_NE" => SeccompCompare.NotEqual,
            "SCMP_CMP_LT" => SeccompCompare.LessThan,
            "SCMP_CMP_LE" => SeccompCompare.LessOrEqual,
            "SCMP_CMP_EQ" => SeccompCompare.Equal,
            "SCMP_CMP_GE" => SeccompCompare.GreaterOrEqual,
            "SCMP_CMP_GT" => SeccompCompare.GreaterThan,
            "SCMP_CMP_MASKED_EQ" => SeccompCompare.MaskedEqual,
            var op => throw new NotSupportedException($"seccomp comparison {op}"),
        },
        a.GetProperty("value").GetUInt64(),
        a.TryGetProperty("valueTwo", out JsonElement v2) ? v2.GetUInt64() : 0);

    /// <summary>Go's GOARCH name for this machine, as the profile's arches lists use.</summary>
    public static string NativeGoArch => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>The running kernel's major.minor.patch (uname -r, digits only).</summary>
    public static Version KernelVersion()
    {
        string release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        string digits = new([.. release.TakeWhile(c => char.IsDigit(c) || c == '.')]);
        return Version.TryParse(digits.TrimEnd('.'), out Version? v) ? v : new Version(0, 0);
    }
}
