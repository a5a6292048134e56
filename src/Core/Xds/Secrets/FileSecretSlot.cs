using Sidecar.Core.Identity;

namespace Sidecar.Core.Xds.Secrets;

/// <summary>
/// <c>file-cert:&lt;chain&gt;~&lt;key&gt;</c> and <c>file-root:&lt;path&gt;</c>: secrets istio-agent serves from files on the
/// proxy's disk (DestinationRule/Gateway certificates given as paths). Loaded when first bound (a missing or bad file
/// is then a binding error naming the secret), re-checked every <see cref="RecheckInterval"/> by modification time
/// and size; a changed set that loads replaces the value (new handshakes use it), one that does not is ignored and
/// the previous value stays, as istio-agent keeps its last good secret.
/// </summary>
public sealed class FileSecretSlot : ISecretSlot, IDisposable
{
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(5);

    private readonly string[] _paths;
    private readonly bool _certificate;
    private readonly Timer _timer;
    private volatile SdsSecretValue? _current;
    private string _stamp = "";

    private FileSecretSlot(string name, string[] paths, bool certificate)
    {
        Name = name;
        _paths = paths;
        _certificate = certificate;
        _timer = new Timer(static s => ((FileSecretSlot)s!).Reload(), this, Timeout.Infinite, Timeout.Infinite);
    }

    public string Name { get; }

    public SdsSecretValue? Current => _current;

    /// <summary>Null and the slot (loaded), or why the name or its files cannot serve.</summary>
    public static string? TryOpen(string name, out FileSecretSlot? slot)
    {
        slot = null;
        if (SdsSecretNames.TryParseFileCert(name, out string chain, out string key)) slot = new FileSecretSlot(name, [chain, key], certificate: true);
        else if (SdsSecretNames.TryParseFileRoot(name, out string root)) slot = new FileSecretSlot(name, [root], certificate: false);
        else return $"SDS secret \"{name}\": not a file-cert:<chain>~<key> or file-root:<path> name";
        string? error = slot.Load();
        if (error is not null)
        {
            slot.Dispose();
            slot = null;
            return $"SDS secret \"{name}\": {error}";
        }
        slot._timer.Change(RecheckInterval, RecheckInterval);
        return null;
    }

    private void Reload()
    {
        try
        {
            if (Stamp() != _stamp) Load();
        }
        catch (IOException)
        {
            // a file being replaced: the next check sees the finished one
        }
    }

    private string Stamp()
    {
        var parts = new string[_paths.Length];
        for (int i = 0; i < _paths.Length; i++)
        {
            var info = new FileInfo(_paths[i]);
            parts[i] = info.Exists ? $"{info.LastWriteTimeUtc.Ticks}:{info.Length}" : "-";
        }
        return string.Join('|', parts);
    }

    private string? Load()
    {
        string stamp = Stamp();
        string[] texts = new string[_paths.Length];
        for (int i = 0; i < _paths.Length; i++)
        {
            try
            {
                texts[i] = File.ReadAllText(_paths[i]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                return $"cannot read {_paths[i]}: {e.Message}";
            }
        }
        SdsSecretValue value;
        if (_certificate)
        {
            CertificateLoadError error = WorkloadCertificateLoader.TryLoad(texts[0], texts[1], texts[0], DateTimeOffset.UtcNow, out WorkloadCertificate? certificate);
            if (error != CertificateLoadError.None) return $"{_paths[0]} / {_paths[1]} refused: {error}";
            value = new SdsSecretValue(certificate, null);
        }
        else
        {
            if (TrustBundle.TryParse(texts[0], out TrustBundle? roots) != TrustBundleError.None) return $"{_paths[0]} holds no valid root certificate";
            value = new SdsSecretValue(null, roots);
        }
        _stamp = stamp;
        _current = value;
        return null;
    }

    public void Dispose() => _timer.Dispose();
}
