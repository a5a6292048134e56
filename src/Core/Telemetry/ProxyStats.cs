namespace Sidecar.Core.Telemetry;

/// <summary>Stats of one http_connection_manager, named as Envoy names them (<c>http.&lt;stat_prefix&gt;.*</c>).</summary>
public sealed class HttpStats
{
    public HttpStats(StatsStore store, string statPrefix)
    {
        string p = "http." + statPrefix + ".";
        DownstreamCxTotal = store.Counter(p + "downstream_cx_total");
        DownstreamCxHttp1Total = store.Counter(p + "downstream_cx_http1_total");
        DownstreamCxHttp2Total = store.Counter(p + "downstream_cx_http2_total");
        DownstreamRqHttp2Total = store.Counter(p + "downstream_rq_http2_total");
        DownstreamCxActive = store.Gauge(p + "downstream_cx_active");
        DownstreamCxDestroy = store.Counter(p + "downstream_cx_destroy");
        DownstreamCxIdleTimeout = store.Counter(p + "downstream_cx_idle_timeout");
        DownstreamCxProtocolError = store.Counter(p + "downstream_cx_protocol_error");
        DownstreamCxUpgradesTotal = store.Counter(p + "downstream_cx_upgrades_total");
        DownstreamRqTotal = store.Counter(p + "downstream_rq_total");
        DownstreamRqHttp1Total = store.Counter(p + "downstream_rq_http1_total");
        DownstreamRqActive = store.Gauge(p + "downstream_rq_active");
        DownstreamRqTimeout = store.Counter(p + "downstream_rq_timeout");
        DownstreamRqHeaderTimeout = store.Counter(p + "downstream_rq_header_timeout");
        DownstreamRqRxReset = store.Counter(p + "downstream_rq_rx_reset");
        NoRoute = store.Counter(p + "no_route");
        NoCluster = store.Counter(p + "no_cluster");
        RqDirectResponse = store.Counter(p + "rq_direct_response");
        RqRedirect = store.Counter(p + "rq_redirect");
        Downstream1xx = store.Counter(p + "downstream_rq_1xx");
        Downstream2xx = store.Counter(p + "downstream_rq_2xx");
        Downstream3xx = store.Counter(p + "downstream_rq_3xx");
        Downstream4xx = store.Counter(p + "downstream_rq_4xx");
        Downstream5xx = store.Counter(p + "downstream_rq_5xx");
    }

    public Counter DownstreamCxTotal { get; }
    public Counter DownstreamCxHttp1Total { get; }
    public Counter DownstreamCxHttp2Total { get; }
    public Counter DownstreamRqHttp2Total { get; }
    public Gauge DownstreamCxActive { get; }
    public Counter DownstreamCxDestroy { get; }
    public Counter DownstreamCxIdleTimeout { get; }
    public Counter DownstreamCxProtocolError { get; }
    public Counter DownstreamCxUpgradesTotal { get; }
    public Counter DownstreamRqTotal { get; }
    public Counter DownstreamRqHttp1Total { get; }
    public Gauge DownstreamRqActive { get; }
    public Counter DownstreamRqTimeout { get; }
    public Counter DownstreamRqHeaderTimeout { get; }
    public Counter DownstreamRqRxReset { get; }
    public Counter NoRoute { get; }
    public Counter NoCluster { get; }
    public Counter RqDirectResponse { get; }
    public Counter RqRedirect { get; }
    public Counter Downstream1xx { get; }
    public Counter Downstream2xx { get; }
    public Counter Downstream3xx { get; }
    public Counter Downstream4xx { get; }
    public Counter Downstream5xx { get; }

    public void CountResponse(int status)
    {
        (status switch
        {
            < 200 => Downstream1xx,
            < 300 => Downstream2xx,
            < 400 => Downstream3xx,
            < 500 => Downstream4xx,
            _ => Downstream5xx,
        }).Increment();
    }
}

/// <summary>Stats of one upstream cluster (<c>cluster.&lt;name&gt;.*</c>).</summary>
public sealed class ClusterStats
{
    public ClusterStats(StatsStore store, string cluster)
    {
        string p = "cluster." + cluster + ".";
        UpstreamCxTotal = store.Counter(p + "upstream_cx_total");
        UpstreamCxActive = store.Gauge(p + "upstream_cx_active");
        UpstreamCxConnectFail = store.Counter(p + "upstream_cx_connect_fail");
        UpstreamCxConnectTimeout = store.Counter(p + "upstream_cx_connect_timeout");
        UpstreamCxDestroy = store.Counter(p + "upstream_cx_destroy");
        UpstreamCxOverflow = store.Counter(p + "upstream_cx_overflow");
        UpstreamCxIdleTimeout = store.Counter(p + "upstream_cx_idle_timeout");
        UpstreamCxMaxRequests = store.Counter(p + "upstream_cx_max_requests");
        UpstreamRqTotal = store.Counter(p + "upstream_rq_total");
        UpstreamRqActive = store.Gauge(p + "upstream_rq_active");
        UpstreamRqTimeout = store.Counter(p + "upstream_rq_timeout");
        UpstreamRqPerTryTimeout = store.Counter(p + "upstream_rq_per_try_timeout");
        UpstreamRqRetry = store.Counter(p + "upstream_rq_retry");
        UpstreamRqRetrySuccess = store.Counter(p + "upstream_rq_retry_success");
        UpstreamRqPendingOverflow = store.Counter(p + "upstream_rq_pending_overflow");
        UpstreamCxNoneHealthy = store.Counter(p + "upstream_cx_none_healthy");
        UpstreamRq2xx = store.Counter(p + "upstream_rq_2xx");
        UpstreamRq3xx = store.Counter(p + "upstream_rq_3xx");
        UpstreamRq4xx = store.Counter(p + "upstream_rq_4xx");
        UpstreamRq5xx = store.Counter(p + "upstream_rq_5xx");
        UpstreamCxRxBytesTotal = store.Counter(p + "upstream_cx_rx_bytes_total");
        UpstreamCxTxBytesTotal = store.Counter(p + "upstream_cx_tx_bytes_total");
    }

    public Counter UpstreamCxTotal { get; }
    public Gauge UpstreamCxActive { get; }
    public Counter UpstreamCxConnectFail { get; }
    public Counter UpstreamCxConnectTimeout { get; }
    public Counter UpstreamCxDestroy { get; }
    public Counter UpstreamCxOverflow { get; }
    public Counter UpstreamCxIdleTimeout { get; }
    public Counter UpstreamCxMaxRequests { get; }
    public Counter UpstreamRqTotal { get; }
    public Gauge UpstreamRqActive { get; }
    /// <summary>Requests that ended waiting for a response by the route timeout (Envoy: not per-try expiries).</summary>
    public Counter UpstreamRqTimeout { get; }
    /// <summary>Tries that hit the retry policy's per_try_timeout (retried or not).</summary>
    public Counter UpstreamRqPerTryTimeout { get; }
    public Counter UpstreamRqRetry { get; }
    public Counter UpstreamRqRetrySuccess { get; }
    public Counter UpstreamRqPendingOverflow { get; }
    public Counter UpstreamCxNoneHealthy { get; }
    public Counter UpstreamRq2xx { get; }
    public Counter UpstreamRq3xx { get; }
    public Counter UpstreamRq4xx { get; }
    public Counter UpstreamRq5xx { get; }
    public Counter UpstreamCxRxBytesTotal { get; }
    public Counter UpstreamCxTxBytesTotal { get; }

    public void CountResponse(int status)
    {
        if (status < 200) return;
        (status switch
        {
            < 300 => UpstreamRq2xx,
            < 400 => UpstreamRq3xx,
            < 500 => UpstreamRq4xx,
            _ => UpstreamRq5xx,
        }).Increment();
    }
}

/// <summary>Stats of a listener (<c>listener.&lt;ip&gt;_&lt;port&gt;.*</c>) and of a tcp_proxy (<c>tcp.&lt;prefix&gt;.*</c>).</summary>
public sealed class ListenerStats(StatsStore store, string address)
{
    public Counter DownstreamCxTotal { get; } = store.Counter("listener." + address + ".downstream_cx_total");
    public Gauge DownstreamCxActive { get; } = store.Gauge("listener." + address + ".downstream_cx_active");
    public Counter DownstreamCxOverflow { get; } = store.Counter("listener." + address + ".downstream_cx_overflow");
    public Counter NoFilterChainMatch { get; } = store.Counter("listener." + address + ".no_filter_chain_match");
}

public sealed class TcpProxyStats(StatsStore store, string statPrefix)
{
    public Counter DownstreamCxTotal { get; } = store.Counter("tcp." + statPrefix + ".downstream_cx_total");
    public Counter DownstreamCxRxBytesTotal { get; } = store.Counter("tcp." + statPrefix + ".downstream_cx_rx_bytes_total");
    public Counter DownstreamCxTxBytesTotal { get; } = store.Counter("tcp." + statPrefix + ".downstream_cx_tx_bytes_total");
    public Counter IdleTimeout { get; } = store.Counter("tcp." + statPrefix + ".idle_timeout");
    public Counter UpstreamConnectFail { get; } = store.Counter("tcp." + statPrefix + ".upstream_connect_fail");
    public Counter DownstreamCxNoRoute { get; } = store.Counter("tcp." + statPrefix + ".downstream_cx_no_route");
}
