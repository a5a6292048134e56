using System.Net;
using System.Net.Sockets;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>Envoy <c>config.core.v3.BindConfig</c> (a cluster's <c>upstream_bind_config</c>).</summary>
internal static class BindConfigTranslator
{
    public static UpstreamBindModel? Read(FieldReader b)
    {
        TranslationContext ctx = b.Context;
        if (!b.IsValid)
        {
            return null;
        }
        IPAddress? v4 = null, v6 = null;
        if (b.Message("source_address") is FieldReader source)
        {
            Assign(ctx, source.Node, ReadSource(source), ref v4, ref v6);
        }
        else
        {
            ctx.Error(b.Node, "source_address is required");
        }
        foreach (ConfigNode extraNode in ctx.Items(b.Take("extra_source_addresses")))
        {
            FieldReader extra = new(ctx, extraNode);
            if (!extra.IsValid)
            {
                continue;
            }
            extra.Unsupported("socket_options", "extra_source_addresses.socket_options");
            FieldReader? address = extra.Message("address");
            extra.Finish();
            if (address is null)
            {
                ctx.Error(extraNode, "address is required");
                continue;
            }
            Assign(ctx, address.Node, ReadSource(address), ref v4, ref v6);
        }
        bool freebind = b.Bool("freebind") ?? false;
        b.Unsupported("socket_options", "upstream_bind_config.socket_options");
        b.Unsupported("additional_source_addresses", "additional_source_addresses (deprecated; use extra_source_addresses)");
        b.Unsupported("local_address_selector", "local_address_selector");
        b.Finish();
        return v4 is null && v6 is null ? null : new UpstreamBindModel { SourceV4 = v4, SourceV6 = v6, Freebind = freebind };
    }

    /// <summary>
    /// A <c>SocketAddress</c> to bind: an IP literal with port 0 (absent), since every upstream connection
    /// needs its own ephemeral port; a fixed port would allow one connection at a time.
    /// </summary>
    private static IPAddress? ReadSource(FieldReader sa)
    {
        TranslationContext ctx = sa.Context;
        if (!sa.IsValid)
        {
            return null;
        }
        sa.Enum("protocol", "TCP");
        string? host = sa.String("address");
        long? port = sa.Integer("port_value", 0, 65535);
        sa.Finish();
        if (port is > 0)
        {
            ctx.Error(sa.Node, "a fixed source port_value is not supported; use 0 (an ephemeral port per connection)");
        }
        if (host is null)
        {
            if (!sa.Has("address"))
            {
                ctx.Error(sa.Node, "address is required");
            }
            return null;
        }
        if (!IPAddress.TryParse(host, out IPAddress? ip))
        {
            ctx.Error(sa.Node, $"source address \"{host}\" must be an IP literal");
            return null;
        }
        return ip;
    }

    /// <summary>Envoy allows one source per IP family (source_address plus extras of the other family).</summary>
    private static void Assign(TranslationContext ctx, ConfigNode node, IPAddress? ip, ref IPAddress? v4, ref IPAddress? v6)
    {
        if (ip is null)
        {
            return;
        }
        ref IPAddress? slot = ref ip.AddressFamily == AddressFamily.InterNetworkV6 ? ref v6 : ref v4;
        if (slot is not null)
        {
            ctx.Error(node, "upstream_bind_config has two source addresses of the same IP family");
            return;
        }
        slot = ip;
    }
}
