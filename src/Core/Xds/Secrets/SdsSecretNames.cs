namespace Sidecar.Core.Xds.Secrets;

/// <summary>
/// Who serves an SDS secret name, by Istio's naming (istio pkg/security/security.go; dataplane-map §1.3.4):
/// istio-agent serves <c>default</c> (workload certificate), <c>ROOTCA</c> (mesh roots), <c>file-cert:&lt;chain&gt;~&lt;key&gt;</c>
/// and <c>file-root:&lt;path&gt;</c> (files on the proxy's own disk) — all resolved in-process here; every other name
/// (<c>kubernetes://…</c>, <c>kubernetes-gateway://…</c>, <c>configmap://…</c>, …) comes from istiod over ADS.
/// </summary>
public static class SdsSecretNames
{
    public const string WorkloadCertificate = "default";
    public const string MeshRoots = "ROOTCA";
    public const string FileCertPrefix = "file-cert:";
    public const string FileRootPrefix = "file-root:";

    /// <summary>istio-agent's separator between the chain and key paths of a file-cert name.</summary>
    public const char FileSeparator = '~';

    public static bool IsServedOverAds(string name) =>
        name.Length > 0 && name is not (WorkloadCertificate or MeshRoots)
        && !name.StartsWith(FileCertPrefix, StringComparison.Ordinal) && !name.StartsWith(FileRootPrefix, StringComparison.Ordinal);

    /// <summary><c>file-cert:&lt;chain&gt;~&lt;key&gt;</c>: exactly two non-empty paths, as istio-agent splits it.</summary>
    public static bool TryParseFileCert(string name, out string chainPath, out string keyPath)
    {
        chainPath = keyPath = "";
        if (!name.StartsWith(FileCertPrefix, StringComparison.Ordinal)) return false;
        string[] parts = name[FileCertPrefix.Length..].Split(FileSeparator);
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0) return false;
        (chainPath, keyPath) = (parts[0], parts[1]);
        return true;
    }

    /// <summary><c>file-root:&lt;path&gt;</c>: one non-empty path (no separator).</summary>
    public static bool TryParseFileRoot(string name, out string rootPath)
    {
        rootPath = "";
        if (!name.StartsWith(FileRootPrefix, StringComparison.Ordinal)) return false;
        string path = name[FileRootPrefix.Length..];
        if (path.Length == 0 || path.Contains(FileSeparator)) return false;
        rootPath = path;
        return true;
    }
}
