using Grpc.Core;
using Microsoft.Extensions.Logging;
using Sidecar.Core.Telemetry;
using Sidecar.Core.Xds.Protocol;

namespace Sidecar.Core.Xds;

/// <summary>
/// The ADS client loop: open a stream, send the session's first requests, feed every response to the
/// session and send back its ACK/NACK and subscription changes; on any stream failure back off (jittered
/// exponential) and reconnect with the versions already held. The resource store, and with it the last
/// published snapshot, outlives every stream, so the proxy keeps serving the last good config while
/// istiod is unreachable. One loop owns the session: no locks. Stops cleanly on cancellation.
/// </summary>
public sealed class XdsClient
{
    private readonly IXdsTransport _transport;
    private readonly XdsClientOptions _options;
    private readonly XdsStats _stats;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly XdsBackoff _backoff;
    private readonly ISession _session;
    private readonly XdsResourceStore _store;

    /// <param name="secrets">Where SDS secrets received over ADS go (the TLS bindings' registry); null refuses them.</param>
    public XdsClient(XdsNode node, IXdsTransport transport, IXdsResourceTranslator translator, XdsClientOptions options,
        StatsStore stats, ILogger logger, TimeProvider? time = null, Random? random = null, IXdsSecretSink? secrets = null)
    {
        _transport = transport;
        _options = options;
        _stats = new XdsStats(stats);
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _backoff = new XdsBackoff(options.BackoffBase, options.BackoffMax, random);
        _store = new XdsResourceStore(translator, options.WarmingTimeout, secrets, _time);
        if (options.Protocol == XdsProtocol.Delta)
        {
            var delta = new DeltaSession(node, _store);
            _session = new Adapter<DeltaDiscoveryRequestMessage>(delta.StartStream, delta.OnResponse, delta.Tick, DiscoveryRequestWriter.Encode);
        }
        else
        {
            var sotw = new SotwSession(node, _store);
            _session = new Adapter<DiscoveryRequestMessage>(sotw.StartStream, sotw.OnResponse, sotw.Tick, DiscoveryRequestWriter.Encode);
        }
    }

    /// <summary>The last snapshot the translator accepted; kept while disconnected.</summary>
    public XdsResourceSet? LastPublished => _store.Published;

    public XdsStats Stats => _stats;

    /// <summary>Per-resource status for /config_dump (client_status, error_state); readable from any thread.</summary>
    public XdsStatusView Status => _store.Status;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            string reason;
            try
            {
                reason = await RunStreamAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is RpcException or IOException or HttpRequestException or XdsTransportException
                                          or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
            {
                reason = e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message;
            }
            finally
            {
                _stats.ConnectedState.Set(0);
            }
            if (cancellationToken.IsCancellationRequested) break;

            _stats.StreamFailed();
            TimeSpan delay = _backoff.Next();
            XdsLog.StreamFailed(_logger, _options.TargetDescription, reason, (long)delay.TotalMilliseconds, _backoff.Attempt);
            try
            {
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        XdsLog.Stopped(_logger);
    }

    /// <summary>One stream, until it fails or ends; returns why it ended.</summary>
    private async Task<string> RunStreamAsync(CancellationToken cancellationToken)
    {
        using var streamCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        CancellationToken ct = streamCts.Token;
        IXdsStream stream = await _transport.OpenAsync(_options.Protocol, ct).ConfigureAwait(false);
        Task<byte[]?>? read = null;
        try
        {
            _stats.StreamOpened.Increment();
            foreach (byte[] request in _session.StartStream()) await stream.WriteAsync(request, ct).ConfigureAwait(false);
            _stats.ConnectedState.Set(1);
            XdsLog.StreamOpened(_logger, _options.Protocol, _options.TargetDescription);

            read = stream.ReadAsync(ct);
            while (true)
            {
                Task tick = Task.Delay(_options.TickInterval, _time, ct);
                Task done = await Task.WhenAny(read, tick).ConfigureAwait(false);
                if (done != read)
                {
                    Tick();
                    continue;
                }
                byte[]? message = await read.ConfigureAwait(false);
                if (message is null) return "server closed the stream";
                _backoff.Reset();
                SessionStep step = _session.OnResponse(message, NowMs());
                Record(step);
                if (step.Outcome == XdsResponseOutcome.ResetStream)
                {
                    _stats.StreamReset.Increment();
                    return "unreadable response: " + step.Error;
                }
                foreach (byte[] request in step.Requests) await stream.WriteAsync(request, ct).ConfigureAwait(false);
                read = stream.ReadAsync(ct);
            }
        }
        finally
        {
            await streamCts.CancelAsync().ConfigureAwait(false);
            await stream.DisposeAsync().ConfigureAwait(false);
            // A read still pending when a write failed ends with the stream's error: observe it, it is already reported.
            read?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    private void Tick()
    {
        XdsTickResult result = _session.Tick(NowMs());
        if (result == XdsTickResult.Published)
        {
            _stats.WarmingTimeout.Increment();
            _stats.Publish.Increment();
            XdsResourceSet set = _store.Published!;
            XdsLog.WarmingTimedOut(_logger, string.Join(',', set.MissingRoutes), string.Join(',', set.MissingEndpoints));
            LogPublished(set);
        }
        else if (result == XdsTickResult.Refused && _store.LastTimeoutPublishError is { } refused)
        {
            _stats.WarmingTimeout.Increment();
            XdsLog.TimeoutPublishRefused(_logger, refused);
        }
    }

    private void Record(SessionStep step)
    {
        XdsStats.SubscriptionStats? stats = _stats.For(step.TypeUrl);
        stats?.UpdateAttempt.Increment();
        if (stats is null) _stats.UnknownType.Increment();
        if (step.Error is { } error && error.Contains("malformed", StringComparison.Ordinal)) _stats.MalformedResponse.Increment();
        string type = XdsTypeUrls.ShortName(step.TypeUrl);
        switch (step.Outcome)
        {
            case XdsResponseOutcome.Accepted:
                stats?.UpdateSuccess.Increment();
                XdsLog.Accepted(_logger, type, step.VersionInfo, step.Nonce, step.ResourceCount);
                if (step.Published)
                {
                    _stats.Publish.Increment();
                    LogPublished(_store.Published!);
                }
                break;
            case XdsResponseOutcome.Rejected:
                stats?.UpdateRejected.Increment();
                XdsLog.Rejected(_logger, type, step.Nonce, step.Error ?? "");
                break;
            default:
                XdsLog.Unreadable(_logger, step.Error ?? "");
                break;
        }
    }

    private void LogPublished(XdsResourceSet set) =>
        XdsLog.Published(_logger, set.Generation, set.Listeners.Count, set.Routes.Count, set.Clusters.Count, set.Endpoints.Count);

    private long NowMs() => _time.GetTimestamp() * 1000 / _time.TimestampFrequency;

    /// <summary>One handled response, protocol-independent, with its requests already encoded.</summary>
    private readonly record struct SessionStep(List<byte[]> Requests, XdsResponseOutcome Outcome, string TypeUrl, string Nonce,
        string VersionInfo, string? Error, bool Published, int ResourceCount);

    private interface ISession
    {
        IEnumerable<byte[]> StartStream();
        SessionStep OnResponse(byte[] message, long nowMs);
        XdsTickResult Tick(long nowMs);
    }

    /// <summary>Either session behind one shape: typed requests encoded on the way out.</summary>
    private sealed class Adapter<TRequest>(
        Func<List<TRequest>> start,
        Func<ReadOnlyMemory<byte>, long, XdsStep<TRequest>> onResponse,
        Func<long, XdsTickResult> tick,
        Func<TRequest, byte[]> encode) : ISession
    {
        public IEnumerable<byte[]> StartStream()
        {
            foreach (TRequest r in start()) yield return encode(r);
        }

        public SessionStep OnResponse(byte[] message, long nowMs)
        {
            XdsStep<TRequest> step = onResponse(message, nowMs);
            var requests = new List<byte[]>(step.Requests.Count);
            foreach (TRequest r in step.Requests) requests.Add(encode(r));
            return new(requests, step.Outcome, step.TypeUrl, step.Nonce, step.VersionInfo, step.Error, step.Published, step.ResourceCount);
        }

        public XdsTickResult Tick(long nowMs) => tick(nowMs);
    }
}
