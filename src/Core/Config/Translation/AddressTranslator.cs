using System.Net;

namespace Sidecar.Core.Config.Translation;

/// <summary>Envoy <c>config.core.v3.Address</c> (socket_address over TCP only).</summary>
internal static class AddressTranslator
{
    /// <summary>Reads <c>address.socket_address</c>; returns host text and port, or null after reporting errors.</summary>
    public static (string Host, int Port)? ReadSocketAddress(FieldReader address)
    {
        if (!address.IsValid)
        {
            return null;
        }
        address.Unsupported("pipe", "unix domain socket addresses");
        address.Unsupported("envoy_internal_address", "internal listeners");
        FieldReader? sa = address.Message("socket_address");
        address.Finish();
        if (sa is null)
        {
            address.Context.Error(address.Node, "socket_address is required");
            return null;
        }
        if (!sa.IsValid)
        {
            return null;
        }
        sa.Enum("protocol", "TCP");
        string? host = sa.String("address");
        int? port = sa.Take("port_value") is { } pn ? (int?)sa.Context.Integer(pn, 1, 65535) : null;
        bool hasPort = sa.Has("port_value") || port is not null;
        sa.Finish();
        if (host is null)
        {
            if (!sa.Has("address"))
            {
                sa.Context.Error(sa.Node, "address is required");
            }
            return null;
        }
        if (port is null)
        {
            if (!hasPort)
            {
                sa.Context.Error(sa.Node, "port_value is required");
            }
            return null;
        }
        return (host, port.Value);
    }

    /// <summary>A bindable endpoint: the address must be an IP literal (we never resolve names to listen).</summary>
    public static IPEndPoint? ReadIpEndPoint(FieldReader address)
    {
        if (ReadSocketAddress(address) is not (string host, int port))
        {
            return null;
        }
        if (!IPAddress.TryParse(host, out IPAddress? ip))
        {
            address.Context.Error(address.Node, $"address \"{host}\" must be an IP literal");
            return null;
        }
        return new IPEndPoint(ip, port);
    }
}
