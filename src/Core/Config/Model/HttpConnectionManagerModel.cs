using System.Collections.Immutable;
using Sidecar.Core.Http;

namespace Sidecar.Core.Config.Model;

public enum CodecType : byte { Auto, Http1, Http2 }

/// <summary>Envoy <c>forward_client_cert_details</c>: what happens to x-forwarded-client-cert on forwarded requests.</summary>
public enum ForwardClientCert : byte
{
    /// <summary>Never forwarded (the default).</summary>
    Sanitize,
    /// <summary>Forwarded unchanged when the client connection is mutual TLS, else removed.</summary>
    ForwardOnly,
    /// <summary>On mutual TLS, our element for this client is appended to what the client sent; else removed.</summary>
    AppendForward,
    /// <summary>On mutual TLS, replaced by our element for this client; else removed.</summary>
    SanitizeSet,
    /// <summary>Always forwarded unchanged.</summary>
    AlwaysForwardOnly,
}

/// <summary>Envoy <c>set_current_client_cert_details</c>: which peer-certificate fields our XFCC element carries.</summary>
[Flags]
public enum ClientCertDetails : byte { None = 0, Subject = 1, Uri = 2, Dns = 4 }

public sealed class HttpConnectionManagerModel
{
    public required string StatPrefix { get; init; }
    public CodecType CodecType { get; init; } = CodecType.Auto;
    public Http2ProtocolOptionsModel Http2 { get; init; } = Http2ProtocolOptionsModel.Default;
    public required RouteConfigModel RouteConfig { get; init; }
    /// <summary>Envoy <c>max_request_headers_kb</c>: default 60 KiB, the limit for the whole request head.</summary>
    public int MaxRequestHeadersBytes { get; init; } = 60 * 1024;
    /// <summary>Envoy <c>common_http_protocol_options.max_headers_count</c>: default 100.</summary>
    public int MaxHeadersCount { get; init; } = 100;
    /// <summary>Envoy <c>common_http_protocol_options.idle_timeout</c>: default 1 h; zero disables.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Envoy <c>stream_idle_timeout</c>: default 5 min.</summary>
    public TimeSpan StreamIdleTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Envoy <c>request_timeout</c>: default disabled (zero).</summary>
    public TimeSpan RequestTimeout { get; init; }
    /// <summary>Envoy <c>request_headers_timeout</c>: default disabled (zero). Our slowloris guard uses
    /// <see cref="EffectiveRequestHeadersTimeout"/>.</summary>
    public TimeSpan RequestHeadersTimeout { get; init; }
    /// <summary>Envoy <c>drain_timeout</c>: default 5 s.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Envoy <c>use_remote_address</c>.</summary>
    public bool UseRemoteAddress { get; init; }
    /// <summary>Envoy <c>generate_request_id</c>: default true.</summary>
    public bool GenerateRequestId { get; init; } = true;
    /// <summary>Envoy <c>server_name</c>: the Server header on responses we originate.</summary>
    public string ServerName { get; init; } = "envoy";
    /// <summary>Maximum request body bytes (0 = unlimited). Not an Envoy HCM field; set by the buffer filter's max_request_bytes.</summary>
    public long MaxRequestBodyBytes { get; init; }
    /// <summary>Envoy <c>normalize_path</c>, <c>merge_slashes</c>, <c>path_with_escaped_slashes_action</c>: applied before routing.</summary>
    public PathNormalization PathNormalization { get; init; }
    /// <summary>Envoy <c>forward_client_cert_details</c> (default SANITIZE).</summary>
    public ForwardClientCert ForwardClientCert { get; init; }
    /// <summary>Envoy <c>set_current_client_cert_details</c> (used by APPEND_FORWARD and SANITIZE_SET).</summary>
    public ClientCertDetails ClientCertDetails { get; init; }

    public TimeSpan EffectiveRequestHeadersTimeout =>
        RequestHeadersTimeout > TimeSpan.Zero ? RequestHeadersTimeout : TimeSpan.FromSeconds(60);
}

public sealed class RouteConfigModel
{
    public string Name { get; init; } = "";
    public required ImmutableArray<VirtualHostModel> VirtualHosts { get; init; }
    public HeaderMutationModel ResponseHeaders { get; init; } = HeaderMutationModel.None;
    public HeaderMutationModel RequestHeaders { get; init; } = HeaderMutationModel.None;
}

public sealed class VirtualHostModel
{
    public required string Name { get; init; }
    /// <summary>Lower-cased domains: exact, "*.suffix", "prefix*" or "*".</summary>
    public required ImmutableArray<string> Domains { get; init; }
    public required ImmutableArray<RouteModel> Routes { get; init; }
    public HeaderMutationModel RequestHeaders { get; init; } = HeaderMutationModel.None;
    public HeaderMutationModel ResponseHeaders { get; init; } = HeaderMutationModel.None;
    public RetryPolicyModel? RetryPolicy { get; init; }
}

/// <summary>Headers to add (appended or overwritten) and remove. Names are lower-case ASCII bytes.</summary>
public sealed class HeaderMutationModel
{
    public static readonly HeaderMutationModel None = new();
    public ImmutableArray<HeaderValueOptionModel> Add { get; init; } = [];
    public ImmutableArray<string> Remove { get; init; } = [];
    public bool IsEmpty => Add.IsEmpty && Remove.IsEmpty;
}

public sealed class HeaderValueOptionModel
{
    public required string Name { get; init; }
    public required string Value { get; init; }
    /// <summary>Envoy <c>append_action</c>: APPEND_IF_EXISTS_OR_ADD (default) or OVERWRITE_IF_EXISTS_OR_ADD, ADD_IF_ABSENT.</summary>
    public HeaderAppendAction Action { get; init; } = HeaderAppendAction.AppendIfExistsOrAdd;
    /// <summary>Pre-encoded "Name: Value\r\n" bytes, ready to be copied into a request or response head.</summary>
    public byte[] Line => _line ??= System.Text.Encoding.ASCII.GetBytes(Name + ": " + Value + "\r\n");
    private byte[]? _line;
    /// <summary>The name lower-cased and the value, as bytes for HTTP/2 (RFC 9113 §8.2.1).</summary>
    public byte[] NameBytes => _nameBytes ??= System.Text.Encoding.ASCII.GetBytes(Name.ToLowerInvariant());
    public byte[] ValueBytes => _valueBytes ??= System.Text.Encoding.ASCII.GetBytes(Value);
    private byte[]? _nameBytes;
    private byte[]? _valueBytes;
}

public enum HeaderAppendAction : byte { AppendIfExistsOrAdd, AddIfAbsent, OverwriteIfExistsOrAdd }
