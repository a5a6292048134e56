using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sidecar.Core.Identity.IstioCa;

/// <summary>
/// The workload certificate from Istio's CA, as pilot-agent's secret cache keeps it: fetched at start, re-fetched with a
/// new key when <c>SECRET_GRACE_PERIOD_RATIO</c> of its lifetime is left (± jitter), retried with capped exponential
/// backoff on failure while the previous certificate stays in service. A certificate is published (one volatile write,
/// then <see cref="Changed"/>) only after <see cref="IstioCaClient"/> validated it.
/// </summary>
public sealed class IstioCaCertificateSource : ICertificateSource, IAsyncDisposable, IDisposable
{
    private readonly IstioCaOptions _options;
    private readonly IstioCaClient _client;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<WorkloadCertificate> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile WorkloadCertificate? _current;
    private Task _loop = Task.CompletedTask;
    private (IstioCaError Error, string Detail) _lastLogged;
    private long _issued;
    private long _failures;
    private volatile IstioCaResultSummary? _lastFailure;
    private long _nextFetchTicks;

    private IstioCaCertificateSource(IstioCaOptions options, ILogger logger, TimeProvider time, bool presentCertificateToCa)
    {
        _options = options;
        _logger = logger;
        _time = time;
        _client = new IstioCaClient(options, presentCertificateToCa ? this : null, time);
    }

    /// <summary>Starts fetching in the background; await <see cref="WaitForFirstAsync"/> before serving mesh traffic.</summary>
    /// <param name="presentCertificateToCa">Present the current certificate to istiod as a TLS client certificate (istiod accepts it as an alternative to the token).</param>
    public static IstioCaCertificateSource Start(IstioCaOptions options, ILogger? logger = null, TimeProvider? time = null, bool presentCertificateToCa = false)
    {
        var source = new IstioCaCertificateSource(options, logger ?? NullLogger.Instance, time ?? TimeProvider.System, presentCertificateToCa);
        source._loop = Task.Run(() => source.RunAsync(source._stop.Token));
        return source;
    }

    public WorkloadCertificate? Current => _current;

    public event Action<WorkloadCertificate>? Changed;

    /// <summary>Completes with the first valid certificate (never faults on CA errors: those are retried).</summary>
    public Task<WorkloadCertificate> WaitForFirstAsync(CancellationToken cancellationToken = default) => _first.Task.WaitAsync(cancellationToken);

    /// <summary>Certificates issued and published.</summary>
    public long Issued => Interlocked.Read(ref _issued);

    /// <summary>Fetches that produced no certificate.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>The last failed fetch since the last success, for diagnostics; null after a success.</summary>
    public IstioCaResultSummary? LastFailure => _lastFailure;

    /// <summary>When the next fetch is due (rotation or retry).</summary>
    public DateTimeOffset NextFetch => new(Interlocked.Read(ref _nextFetchTicks), TimeSpan.Zero);

    private long NextFetchTicks
    {
        set => Interlocked.Exchange(ref _nextFetchTicks, value);
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var consecutiveFailures = 0;
        while (!stop.IsCancellationRequested)
        {
            TimeSpan delay;
            IstioCaResult result;
            try
            {
                result = await _client.FetchAsync(stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stop.IsCancellationRequested)
            {
                // The client reports expected failures as results; anything else must not end rotation for good.
                result = IstioCaResult.Fail(IstioCaError.CallFailed, $"{ex.GetType().Name}: {ex.Message}");
            }
            if (stop.IsCancellationRequested) break;
            if (result.Succeeded)
            {
                consecutiveFailures = 0;
                delay = Publish(result.Certificate!);
            }
            else
            {
                consecutiveFailures++;
                RecordFailure(result);
                delay = RotationSchedule.Backoff(consecutiveFailures, _options.InitialRetryDelay, _options.MaxRetryDelay, Random.Shared.NextDouble());
                // Past its notAfter the kept certificate is useless to peers, but it is still the best there is; say so once.
                if (_current is { } kept && kept.NotAfter <= _time.GetUtcNow() && consecutiveFailures == 1)
                {
                    IstioCaLog.CertificateExpired(_logger, _options.Address, kept.SerialNumber, kept.NotAfter);
                }
                NextFetchTicks = (_time.GetUtcNow() + delay).UtcTicks;
            }
            try
            {
                await Task.Delay(delay, _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Schedules the rotation, publishes, and returns the delay until the rotation.</summary>
    private TimeSpan Publish(WorkloadCertificate certificate)
    {
        var rotateAt = RotationSchedule.RotateAt(certificate.NotBefore, certificate.NotAfter, _options.GracePeriodRatio, _options.GracePeriodJitter, Random.Shared.NextDouble());
        var now = _time.GetUtcNow();
        // A CA answering with a nearly spent certificate must not turn this loop into a busy one.
        if (rotateAt - now < _options.InitialRetryDelay) rotateAt = now + _options.InitialRetryDelay;
        NextFetchTicks = rotateAt.UtcTicks;
        if (certificate.TrustBundle.Skipped > 0)
        {
            IdentityLog.TrustBundleSkipped(_logger, _options.RootCertFile, certificate.TrustBundle.Skipped, certificate.TrustBundle.Roots.Count);
        }
        _current = certificate;
        _lastFailure = null;
        _lastLogged = default;
        Interlocked.Increment(ref _issued);
        IstioCaLog.CertificateIssued(_logger, _options.Address, certificate.SerialNumber, certificate.SpiffeId, certificate.NotBefore, certificate.NotAfter, rotateAt);
        _first.TrySetResult(certificate);
        try
        {
            Changed?.Invoke(certificate);
        }
        catch (Exception ex)
        {
            IstioCaLog.ChangedHandlerFailed(_logger, ex);
        }
        return rotateAt - now;
    }

    private void RecordFailure(IstioCaResult result)
    {
        Interlocked.Increment(ref _failures);
        _lastFailure = new IstioCaResultSummary(result.Error, result.Detail, _time.GetUtcNow());
        // The same failure repeats on every retry while the CA is down; one line per distinct failure is enough.
        if (_lastLogged == (result.Error, result.Detail)) return;
        _lastLogged = (result.Error, result.Detail);
        IstioCaLog.FetchFailed(_logger, _options.Address, result.Error, result.Detail, _current?.SerialNumber ?? "none");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _client.Dispose();
        _stop.Dispose();
        _first.TrySetCanceled();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}

/// <summary>A failed fetch, kept for diagnostics (admin endpoints, tests).</summary>
public sealed record IstioCaResultSummary(IstioCaError Error, string Detail, DateTimeOffset At);
