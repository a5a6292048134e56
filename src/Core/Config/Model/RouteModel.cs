using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace Sidecar.Core.Config.Model;

public sealed class RouteModel
{
    public string Name { get; init; } = "";
    public required RouteMatchModel Match { get; init; }
    /// <summary>Exactly one of <see cref="Action"/>, <see cref="DirectResponse"/>, <see cref="Redirect"/> is set.</summary>
    public RouteActionModel? Action { get; init; }
    public DirectResponseModel? DirectResponse { get; init; }
    public RedirectModel? Redirect { get; init; }
    public HeaderMutationModel RequestHeaders { get; init; } = HeaderMutationModel.None;
    public HeaderMutationModel ResponseHeaders { get; init; } = HeaderMutationModel.None;
}

/// <summary>How a route matches; <see cref="Connect"/> is Envoy's connect_matcher (CONNECT requests only).</summary>
public enum PathMatchKind : byte { Prefix, Path, SafeRegex, PathSeparatedPrefix, Connect }

public sealed class RouteMatchModel
{
    public required PathMatchKind Kind { get; init; }
    /// <summary>The prefix or exact path (Kind Prefix/Path/PathSeparatedPrefix), as given.</summary>
    public string Value { get; init; } = "";
    /// <summary>Compiled regex (Kind SafeRegex); matched against the path without the query, whole-string.</summary>
    public Regex? Regex { get; init; }
    /// <summary>Envoy <c>case_sensitive</c>, default true.</summary>
    public bool CaseSensitive { get; init; } = true;
    public ImmutableArray<HeaderMatcherModel> Headers { get; init; } = [];
    public ImmutableArray<QueryParameterMatcherModel> QueryParameters { get; init; } = [];
}

public enum StringMatchKind : byte { Exact, Prefix, Suffix, Contains, SafeRegex, Present }

/// <summary>Envoy <c>type.matcher.v3.StringMatcher</c> (plus header "present").</summary>
public sealed class StringMatcherModel
{
    public required StringMatchKind Kind { get; init; }
    public string Value { get; init; } = "";
    public Regex? Regex { get; init; }
    public bool IgnoreCase { get; init; }
}

public sealed class HeaderMatcherModel
{
    /// <summary>Lower-case header name (":authority", ":method", ":path" allowed as pseudo-headers).</summary>
    public required string Name { get; init; }
    /// <summary>Null with <see cref="PresentMatch"/> = true means "present".</summary>
    public StringMatcherModel? Matcher { get; init; }
    public bool PresentMatch { get; init; }
    public bool InvertMatch { get; init; }
    public bool TreatMissingAsEmpty { get; init; }
}

public sealed class QueryParameterMatcherModel
{
    public required string Name { get; init; }
    public StringMatcherModel? Matcher { get; init; }
    public bool PresentMatch { get; init; }
}

public sealed class RouteActionModel
{
    /// <summary>A single cluster, or empty when <see cref="WeightedClusters"/> is used.</summary>
    public string Cluster { get; init; } = "";
    public ImmutableArray<WeightedClusterModel> WeightedClusters { get; init; } = [];
    /// <summary>Envoy default 15 s; zero disables.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>Envoy <c>idle_timeout</c> per route (zero = use the connection manager's stream idle timeout).</summary>
    public TimeSpan IdleTimeout { get; init; }
    public string? PrefixRewrite { get; init; }
    public string? HostRewriteLiteral { get; init; }
    public RetryPolicyModel? RetryPolicy { get; init; }
    /// <summary>Envoy <c>upgrade_configs</c> enables "websocket" per route; HCM-level value is folded in.</summary>
    public bool AllowWebSocket { get; init; } = true;
    /// <summary>upgrade_configs "CONNECT" enabled (route or connection manager): CONNECT requests may use this route.</summary>
    public bool AllowConnect { get; init; }
    /// <summary>
    /// upgrade_configs CONNECT with connect_config: the proxy terminates CONNECT (opens TCP to the cluster,
    /// answers 200, relays bytes) instead of forwarding the CONNECT request upstream.
    /// </summary>
    public bool TerminateConnect { get; init; }
    /// <summary>How the request's grpc-timeout header bounds the wait for the upstream (see <see cref="GrpcTimeoutRule"/>).</summary>
    public GrpcTimeoutRule GrpcTimeout { get; init; } = GrpcTimeoutRule.None;
}

/// <summary>Which route option makes the request's grpc-timeout header a deadline.</summary>
public enum GrpcTimeoutKind : byte
{
    /// <summary>The header is not used.</summary>
    None,
    /// <summary><c>max_grpc_timeout</c> / <c>grpc_timeout_offset</c>: the header replaces the route timeout for gRPC requests.</summary>
    RouteTimeout,
    /// <summary><c>max_stream_duration.grpc_timeout_header_max</c> / <c>_offset</c>: the header bounds the stream's duration.</summary>
    StreamDuration,
}

/// <summary>A route's grpc-timeout rule: the header's value capped at <see cref="Max"/> (zero = no cap), less <see cref="Offset"/>.</summary>
public sealed record GrpcTimeoutRule(GrpcTimeoutKind Kind, TimeSpan Max, TimeSpan Offset)
{
    public static readonly GrpcTimeoutRule None = new(GrpcTimeoutKind.None, TimeSpan.Zero, TimeSpan.Zero);
}

public sealed class WeightedClusterModel
{
    public required string Name { get; init; }
    public required int Weight { get; init; }
}

/// <summary>Envoy <c>retry_policy</c> basics: retry_on conditions, num_retries, per_try_timeout.</summary>
public sealed class RetryPolicyModel
{
    public RetryOn RetryOn { get; init; }
    public int NumRetries { get; init; } = 1;
    public TimeSpan PerTryTimeout { get; init; }
    public ImmutableArray<int> RetriableStatusCodes { get; init; } = [];
}

[Flags]
public enum RetryOn
{
    None = 0,
    FiveXx = 1,
    GatewayError = 2,
    Reset = 4,
    ConnectFailure = 8,
    RetriableStatusCodes = 16,
    RefusedStream = 32,
}

public sealed class DirectResponseModel
{
    public required int Status { get; init; }
    public byte[] Body { get; init; } = [];
}

public sealed class RedirectModel
{
    public string? HostRedirect { get; init; }
    public int? PortRedirect { get; init; }
    public string? PathRedirect { get; init; }
    public string? PrefixRewrite { get; init; }
    public string? SchemeRedirect { get; init; }
    public bool HttpsRedirect { get; init; }
    public bool StripQuery { get; init; }
    /// <summary>301 (MOVED_PERMANENTLY, default), 302, 303, 307, 308.</summary>
    public int ResponseCode { get; init; } = 301;
}
