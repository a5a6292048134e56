using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sidecar.Core.Identity;

/// <summary>Where <see cref="FileCertificateSource"/> looks and how often it re-checks.</summary>
public sealed record FileCertificateSourceOptions(string Directory)
{
    /// <summary>Istio's file-mounted layout (<c>pkg/security/security.go</c>): <c>./etc/certs</c>.</summary>
    public const string IstioEtcCerts = "./etc/certs";

    /// <summary>Istio's workload-credential mount: <c>./var/run/secrets/workload-spiffe-credentials</c>.</summary>
    public const string IstioWorkloadCredentials = "./var/run/secrets/workload-spiffe-credentials";

    public string CertChainFile { get; init; } = "cert-chain.pem";
    public string KeyFile { get; init; } = "key.pem";
    public string RootCertFile { get; init; } = "root-cert.pem";

    /// <summary>Quiet time after the last file event before reloading.</summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Safety-net poll: Kubernetes swaps a <c>..data</c> symlink and inotify on the directory can miss what the
    /// file names now point to, so the files are also re-read on this period (cheap: unchanged bytes are ignored).
    /// </summary>
    public TimeSpan RecheckInterval { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The workload certificate from Istio's mounted files, reloaded when they change: watched, debounced, re-checked
/// periodically, swapped atomically. A set of files that does not load (unparsable, key not matching, expired) is
/// logged once and the previous certificate stays in service.
/// </summary>
public sealed class FileCertificateSource : ICertificateSource, IDisposable
{
    private readonly FileCertificateSourceOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly FileSystemWatcher? _watcher;
    private readonly Debouncer _debouncer;
    private readonly Timer _recheck;
    private readonly Lock _reloadLock = new();
    private volatile WorkloadCertificate? _current;
    private byte[]? _loadedDigest;
    private byte[]? _rejectedDigest;
    private long _reloads;
    private long _rejections;

    private FileCertificateSource(FileCertificateSourceOptions options, ILogger logger, TimeProvider time)
    {
        _options = options;
        _logger = logger;
        _time = time;
        _debouncer = new Debouncer(options.Debounce, Reload);
        _recheck = new Timer(static s => ((FileCertificateSource)s!).Reload(), this, Timeout.Infinite, Timeout.Infinite);
        if (System.IO.Directory.Exists(options.Directory))
        {
            _watcher = new FileSystemWatcher(options.Directory)
            {
                // Every kind of change: content writes, renames of ..data, creation of new timestamped dirs.
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            _watcher.Changed += OnFileEvent;
            _watcher.Created += OnFileEvent;
            _watcher.Deleted += OnFileEvent;
            _watcher.Renamed += OnFileEvent;
        }
    }

    /// <summary>Loads the files now (so <see cref="Current"/> is set when they are good) and starts watching.</summary>
    public static FileCertificateSource Start(FileCertificateSourceOptions options, ILogger? logger = null, TimeProvider? time = null)
    {
        var source = new FileCertificateSource(options, logger ?? NullLogger.Instance, time ?? TimeProvider.System);
        source.Reload();
        if (source._watcher is not null) source._watcher.EnableRaisingEvents = true;
        source._recheck.Change(options.RecheckInterval, options.RecheckInterval);
        return source;
    }

    public WorkloadCertificate? Current => _current;

    public event Action<WorkloadCertificate>? Changed;

    /// <summary>Successful reloads that replaced the certificate.</summary>
    public long Reloads => Interlocked.Read(ref _reloads);

    /// <summary>File sets refused (each distinct bad content counted once).</summary>
    public long Rejections => Interlocked.Read(ref _rejections);

    /// <summary>The error of the last refused file set, for diagnostics.</summary>
    public CertificateLoadError LastError { get; private set; }

    private void OnFileEvent(object sender, FileSystemEventArgs e) => _debouncer.Trigger();

    /// <summary>Reads the three files and swaps the certificate if their bytes changed and they load. Serialised.</summary>
    internal void Reload()
    {
        lock (_reloadLock)
        {
            string chain, key, root;
            try
            {
                chain = File.ReadAllText(Path.Combine(_options.Directory, _options.CertChainFile));
                key = File.ReadAllText(Path.Combine(_options.Directory, _options.KeyFile));
                root = File.ReadAllText(Path.Combine(_options.Directory, _options.RootCertFile));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Mid-swap a file can be briefly missing; the next event or re-check retries. Logged once per outage.
                Reject(CertificateLoadError.FileUnreadable, [0xFF]);
                return;
            }

            var digest = Digest(chain, key, root);
            if (SameDigest(digest, _loadedDigest))
            {
                // Back to the files in service (e.g. after a brief mid-swap outage): the next problem is news again.
                _rejectedDigest = null;
                LastError = CertificateLoadError.None;
                return;
            }
            // Refused content is not re-parsed on every re-check, except a not-yet-valid certificate: time fixes that one.
            if (SameDigest(digest, _rejectedDigest) && LastError != CertificateLoadError.NotYetValid) return;

            var error = WorkloadCertificateLoader.TryLoad(chain, key, root, _time.GetUtcNow(), out var loaded);
            if (error != CertificateLoadError.None)
            {
                Reject(error, digest);
                return;
            }
            _loadedDigest = digest;
            _rejectedDigest = null;
            LastError = CertificateLoadError.None;
            if (loaded!.TrustBundle.Skipped > 0)
            {
                IdentityLog.TrustBundleSkipped(_logger, Path.Combine(_options.Directory, _options.RootCertFile), loaded.TrustBundle.Skipped, loaded.TrustBundle.Roots.Count);
            }
            _current = loaded;
            Interlocked.Increment(ref _reloads);
            IdentityLog.CertificateLoaded(_logger, _options.Directory, loaded.SerialNumber, loaded.SpiffeId.IsEmpty ? "no SPIFFE ID" : loaded.SpiffeId.ToString(), loaded.NotAfter);
            Changed?.Invoke(loaded);
        }
    }

    private void Reject(CertificateLoadError error, byte[] digest)
    {
        // The same bad content is seen again on every re-check; remembering its digest keeps it to one log line.
        if (SameDigest(digest, _rejectedDigest)) return;
        _rejectedDigest = digest;
        LastError = error;
        Interlocked.Increment(ref _rejections);
        IdentityLog.CertificateRejected(_logger, _options.Directory, error, _current?.SerialNumber ?? "none");
    }

    private static bool SameDigest(byte[] digest, byte[]? other) => other is not null && digest.AsSpan().SequenceEqual(other);

    private static byte[] Digest(string chain, string key, string root)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> separator = [0];
        foreach (var part in (ReadOnlySpan<string>)[chain, key, root])
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(part));
            hash.AppendData(separator);
        }
        return hash.GetHashAndReset();
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debouncer.Dispose();
        _recheck.Dispose();
    }
}
