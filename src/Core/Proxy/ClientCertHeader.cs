using System.Buffers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Identity;
using Sidecar.Core.Transport;

namespace Sidecar.Core.Proxy;

/// <summary>What a forwarded request does with x-forwarded-client-cert (XFCC).</summary>
internal enum XfccAction : byte
{
    /// <summary>The client's XFCC fields pass unchanged.</summary>
    Forward,
    /// <summary>The client's XFCC fields are dropped and none is added.</summary>
    Remove,
    /// <summary>The client's XFCC values, then ours, joined with ',' in one field.</summary>
    Append,
    /// <summary>The client's XFCC fields are dropped; ours replaces them.</summary>
    Set,
}

/// <summary>
/// The x-forwarded-client-cert element describing one downstream mutual-TLS connection, as Envoy writes it
/// (<c>ConnectionManagerUtility::mutateXfccRequestHeader</c>): <c>By=&lt;our URI SAN&gt;</c> (one per URI SAN),
/// <c>Hash=&lt;lower-case hex SHA-256 of the peer certificate&gt;</c>, then the configured details in Envoy's order:
/// <c>Subject="&lt;RFC 2253 subject&gt;"</c> (present even when empty), <c>URI=&lt;peer URI SAN&gt;</c> (one per SAN,
/// "URI=" when none), <c>DNS=&lt;peer DNS SAN&gt;</c> (one per SAN), all joined with ';'. Built once per connection
/// (and per set of details, which only a config change alters), never per request.
/// </summary>
internal sealed class ClientCertHeader
{
    public static ReadOnlySpan<byte> Name => "x-forwarded-client-cert"u8;

    private readonly X509Certificate2 _peer;
    private readonly X509Certificate2? _local;
    private byte[]? _element;
    private ClientCertDetails _elementDetails;

    private ClientCertHeader(X509Certificate2 peer, X509Certificate2? local)
    {
        _peer = peer;
        _local = local;
    }

    /// <summary>The connection's client certificate details, or null when it is not mutual TLS (no peer certificate).</summary>
    public static ClientCertHeader? For(ConnectionContext connection)
    {
        if (connection is not TlsConnection tls || tls.Stream.RemoteCertificate is not X509Certificate peer)
        {
            return null;
        }
        X509Certificate2 peer2 = peer as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(peer.GetRawCertData());
        X509Certificate? local = tls.Stream.LocalCertificate;
        X509Certificate2? local2 = local is null ? null : local as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(local.GetRawCertData());
        return new ClientCertHeader(peer2, local2);
    }

    /// <summary>What to do with XFCC for a request on a connection with these details (null = not mutual TLS).</summary>
    public static XfccAction Decide(ForwardClientCert mode, ClientCertHeader? connection) => mode switch
    {
        ForwardClientCert.AlwaysForwardOnly => XfccAction.Forward,
        _ when connection is null => XfccAction.Remove,
        ForwardClientCert.ForwardOnly => XfccAction.Forward,
        ForwardClientCert.AppendForward => XfccAction.Append,
        ForwardClientCert.SanitizeSet => XfccAction.Set,
        _ => XfccAction.Remove,
    };

    /// <summary>Our XFCC element for this connection (ASCII), built on first use.</summary>
    public byte[] Element(ClientCertDetails details)
    {
        byte[]? cached = _element;
        if (cached is not null && _elementDetails == details) return cached;
        byte[] built = Encoding.ASCII.GetBytes(Build(_peer, _local, details));
        _elementDetails = details;
        _element = built;
        return built;
    }

    /// <summary>The element text (also used by tests to state the expected value independently of a connection).</summary>
    public static string Build(X509Certificate2 peer, X509Certificate2? local, ClientCertDetails details)
    {
        var parts = new List<string>();
        if (local is not null && SubjectAltNames.TryRead(local, out SubjectAltNames ours))
        {
            foreach (string uri in ours.Uris) parts.Add("By=" + uri);
        }
        parts.Add("Hash=" + Convert.ToHexStringLower(SHA256.HashData(peer.RawData)));
        SubjectAltNames theirs = SubjectAltNames.TryRead(peer, out SubjectAltNames names) ? names : SubjectAltNames.None;
        if ((details & ClientCertDetails.Subject) != 0)
        {
            parts.Add("Subject=\"" + Rfc2253(peer.SubjectName) + "\"");
        }
        if ((details & ClientCertDetails.Uri) != 0)
        {
            if (theirs.Uris.Count == 0) parts.Add("URI=");
            foreach (string uri in theirs.Uris) parts.Add("URI=" + uri);
        }
        if ((details & ClientCertDetails.Dns) != 0)
        {
            foreach (string dns in theirs.DnsNames) parts.Add("DNS=" + dns);
        }
        return string.Join(';', parts);
    }

    /// <summary>
    /// RFC 2253 §2: the RDNs last to first, ',' between them, '+' inside a multi-valued RDN, the usual short attribute
    /// names, and §2.4 escaping (',', '+', '"', '\', '&lt;', '&gt;', ';', a leading '#' or space, a trailing space).
    /// </summary>
    internal static string Rfc2253(X500DistinguishedName name)
    {
        var sb = new StringBuilder();
        // .NET's "reversed: false" walks the RDNs from the last encoded one, which is RFC 2253's order.
        foreach (X500RelativeDistinguishedName rdn in name.EnumerateRelativeDistinguishedNames(reversed: false))
        {
            if (sb.Length > 0) sb.Append(',');
            if (rdn.HasMultipleElements)
            {
                // Multi-valued RDNs are rare in workload certificates; .NET exposes them only as raw DER.
                sb.Append('#').Append(Convert.ToHexStringLower(rdn.RawData.Span));
                continue;
            }
            string oid = rdn.GetSingleElementType().Value ?? "";
            sb.Append(ShortName(oid)).Append('=');
            AppendEscaped(sb, rdn.GetSingleElementValue() ?? "");
        }
        return sb.ToString();
    }

    private static string ShortName(string oid) => oid switch
    {
        "2.5.4.3" => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => oid,
    };

    private static void AppendEscaped(StringBuilder sb, string value)
    {
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            bool escape = c is ',' or '+' or '"' or '\\' or '<' or '>' or ';'
                || (i == 0 && (c == '#' || c == ' '))
                || (i == value.Length - 1 && c == ' ');
            if (escape) sb.Append('\\');
            sb.Append(c);
        }
    }
}

/// <summary>Writes the x-forwarded-client-cert field of a forwarded request (HTTP/1.1 lines or HPACK fields).</summary>
internal static class XfccFields
{
    /// <summary>Whether a received field is XFCC (any case; 23 bytes).</summary>
    public static bool IsXfcc(ReadOnlySpan<byte> name) =>
        name.Length == 23 && System.Text.Ascii.EqualsIgnoreCase(name, ClientCertHeader.Name);

    /// <summary>The client's XFCC fields are dropped from the copy of its head (ours, if any, is written separately).</summary>
    public static bool DropsReceived(XfccAction action) => action != XfccAction.Forward;

    /// <summary>Appends "x-forwarded-client-cert: [client values,]element\r\n" for Append and Set.</summary>
    public static void WriteHttp1<THead>(System.IO.Pipelines.PipeWriter w, THead req, XfccAction action, byte[] element)
        where THead : Sidecar.Core.Http.IRequestView
    {
        w.Write("x-forwarded-client-cert: "u8);
        if (action == XfccAction.Append)
        {
            for (int i = 0; i < req.HeaderCount; i++)
            {
                if (!IsXfcc(req.GetHeaderName(i))) continue;
                w.Write(req.GetHeaderValue(i));
                w.Write(","u8);
            }
        }
        w.Write(element);
        w.Write("\r\n"u8);
    }

    /// <summary>The same field for an HTTP/2 upstream (one field; the client's values joined in a pooled buffer).</summary>
    public static void Encode<THead>(Sidecar.Core.Hpack.HpackEncoder enc, System.Buffers.IBufferWriter<byte> block, THead req, XfccAction action, byte[] element)
        where THead : Sidecar.Core.Http.IRequestView
    {
        int prior = 0;
        if (action == XfccAction.Append)
        {
            for (int i = 0; i < req.HeaderCount; i++)
            {
                if (IsXfcc(req.GetHeaderName(i))) prior += req.GetHeaderValue(i).Length + 1;
            }
        }
        if (prior == 0)
        {
            enc.Encode("x-forwarded-client-cert"u8, element, false, block);
            return;
        }
        byte[] joined = System.Buffers.ArrayPool<byte>.Shared.Rent(prior + element.Length);
        int n = 0;
        for (int i = 0; i < req.HeaderCount; i++)
        {
            if (!IsXfcc(req.GetHeaderName(i))) continue;
            ReadOnlySpan<byte> v = req.GetHeaderValue(i);
            v.CopyTo(joined.AsSpan(n));
            n += v.Length;
            joined[n++] = (byte)',';
        }
        element.CopyTo(joined.AsSpan(n));
        n += element.Length;
        enc.Encode("x-forwarded-client-cert"u8, joined.AsSpan(0, n), false, block);
        System.Buffers.ArrayPool<byte>.Shared.Return(joined);
    }
}
