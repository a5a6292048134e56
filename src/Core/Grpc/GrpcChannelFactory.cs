using System.Globalization;
using System.Net;

namespace Sidecar.Core.Grpc;

/// <summary>Why a <see cref="GrpcTargetOptions"/> cannot become a channel.</summary>
public enum GrpcTargetError
{
    None = 0,
    /// <summary>The address is not <c>host:port</c> with a port in 1..65535.</summary>
    AddressInvalid,
    /// <summary>TLS was asked for without roots to verify the server against (we never fall back to the system store).</summary>
    RootsMissing,
}

/// <summary>Builds <see cref="GrpcConnection"/>s for control-plane targets (Istio CA, xDS).</summary>
public static class GrpcChannelFactory
{
    public static GrpcTargetError TryCreate(GrpcTargetOptions options, out GrpcConnection? connection)
    {
        connection = null;
        if (!TryParseAddress(options.Address, out var host, out var port)) return GrpcTargetError.AddressInvalid;
        if (!options.Plaintext && (options.Roots is null || options.Roots.Roots.Count == 0)) return GrpcTargetError.RootsMissing;
        EndPoint endPoint = IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
        connection = new GrpcConnection(options, endPoint, host, port);
        return GrpcTargetError.None;
    }

    /// <summary><c>host:port</c> or <c>[v6]:port</c>, as Go's <c>net.SplitHostPort</c> accepts them for CA_ADDR.</summary>
    internal static bool TryParseAddress(string address, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || colon == address.Length - 1) return false;
        var hostPart = address.AsSpan(0, colon);
        if (hostPart[0] == '[')
        {
            if (hostPart.Length < 3 || hostPart[^1] != ']') return false;
            hostPart = hostPart[1..^1];
        }
        else if (hostPart.Contains(':'))
        {
            return false;
        }
        if (!int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535) return false;
        host = hostPart.ToString();
        return host.Length > 0;
    }
}
