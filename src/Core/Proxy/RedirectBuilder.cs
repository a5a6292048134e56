using System.Text;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Http1;

namespace Sidecar.Core.Proxy;

/// <summary>Builds the Location of a route <c>redirect</c> (not a hot path: redirects are terminal replies).</summary>
internal static class RedirectBuilder
{
    public static byte[] Build<TRequest>(RedirectModel r, TRequest request) where TRequest : Sidecar.Core.Http.IRequestView, allows ref struct
    {
        string authority = Encoding.ASCII.GetString(request.Authority);
        string pathAndQuery = Encoding.ASCII.GetString(request.PathAndQuery);
        int q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        string path = q < 0 ? pathAndQuery : pathAndQuery[..q];
        string query = q < 0 || r.StripQuery ? "" : pathAndQuery[q..];

        string scheme = r.HttpsRedirect ? "https" : r.SchemeRedirect ?? "http";
        string host = authority;
        int colon = host.LastIndexOf(':');
        string hostOnly = colon > 0 && !host.EndsWith(']') ? host[..colon] : host;
        string? port = colon > 0 && !host.EndsWith(']') ? host[(colon + 1)..] : null;
        if (r.HostRedirect is not null) { hostOnly = r.HostRedirect; }
        if (r.PortRedirect is int p) port = p.ToString(System.Globalization.CultureInfo.InvariantCulture);
        else if (r.HttpsRedirect || r.SchemeRedirect is not null) port = null;
        if (r.PathRedirect is not null)
        {
            int pq = r.PathRedirect.IndexOf('?', StringComparison.Ordinal);
            path = pq < 0 ? r.PathRedirect : r.PathRedirect[..pq];
            if (pq >= 0) query = r.PathRedirect[pq..];
        }
        else if (r.PrefixRewrite is not null)
        {
            path = r.PrefixRewrite + path;
        }
        string location = scheme + "://" + hostOnly + (port is null ? "" : ":" + port) + path + query;
        return Encoding.ASCII.GetBytes(location);
    }
}
