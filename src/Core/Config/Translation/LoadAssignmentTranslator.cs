using System.Collections.Immutable;
using System.Net;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary><c>load_assignment</c> (ClusterLoadAssignment): localities and their endpoints.</summary>
internal static class LoadAssignmentTranslator
{
    /// <summary>
    /// One EDS resource alone: the ClusterLoadAssignment tree (rooted at its resource path, e.g. <c>endpoints "svc"</c>)
    /// read exactly as the <c>load_assignment</c> of the STATIC cluster an EDS cluster becomes — so the endpoints can be
    /// translated, cached and replaced without translating the cluster again.
    /// </summary>
    public static (ImmutableArray<LocalityEndpointsModel> Localities, ImmutableArray<ConfigError> Errors) TranslateResource(ConfigNode assignment)
    {
        TranslationContext ctx = new();
        ImmutableArray<LocalityEndpointsModel> localities = Read(new FieldReader(ctx, assignment), DiscoveryType.Static);
        return (localities, ctx.Errors);
    }

    public static ImmutableArray<LocalityEndpointsModel> Read(FieldReader la, DiscoveryType type)
    {
        TranslationContext ctx = la.Context;
        if (!la.IsValid)
        {
            return [];
        }
        la.String("cluster_name");
        la.Unsupported("policy", "load_assignment.policy");
        ImmutableArray<LocalityEndpointsModel>.Builder b = ImmutableArray.CreateBuilder<LocalityEndpointsModel>();
        foreach (ConfigNode ln in ctx.Items(la.Take("endpoints")))
        {
            FieldReader l = new(ctx, ln);
            if (!l.IsValid)
            {
                continue;
            }
            string region = "", zone = "", subZone = "";
            if (l.Message("locality") is FieldReader loc)
            {
                region = loc.String("region") ?? "";
                zone = loc.String("zone") ?? "";
                subZone = loc.String("sub_zone") ?? "";
                loc.Finish();
            }
            int weight = (int)(l.Integer("load_balancing_weight", 1, int.MaxValue) ?? 1);
            int priority = (int)(l.Integer("priority", 0, 128) ?? 0);
            ImmutableArray<EndpointModel>.Builder eps = ImmutableArray.CreateBuilder<EndpointModel>();
            foreach (ConfigNode en in ctx.Items(l.Take("lb_endpoints")))
            {
                if (ReadLbEndpoint(ctx, en, type) is EndpointModel ep)
                {
                    eps.Add(ep);
                }
            }
            l.Finish();
            b.Add(new LocalityEndpointsModel { Region = region, Zone = zone, SubZone = subZone, Weight = weight, Priority = priority, Endpoints = eps.ToImmutable() });
        }
        la.Finish();
        return b.ToImmutable();
    }

    private static EndpointModel? ReadLbEndpoint(TranslationContext ctx, ConfigNode node, DiscoveryType type)
    {
        FieldReader le = new(ctx, node);
        if (!le.IsValid)
        {
            return null;
        }
        int weight = (int)(le.Integer("load_balancing_weight", 1, int.MaxValue) ?? 1);
        ImmutableDictionary<string, string> socketMatch = le.Message("metadata") is FieldReader md ? ReadEndpointMetadata(md) : ImmutableDictionary<string, string>.Empty;
        EndpointModel? result = null;
        if (le.Message("endpoint") is FieldReader e && e.IsValid)
        {
            e.String("hostname"); // Envoy uses it only for auto_host_rewrite/health checks; accepted, not needed.
            FieldReader? address = e.Message("address");
            e.Unsupported("health_check_config", "health_check_config");
            e.Unsupported("additional_addresses", "additional_addresses");
            e.Finish();
            if (address is null)
            {
                ctx.Error(e.Node, "address is required");
            }
            else if (AddressTranslator.ReadSocketAddress(address) is (string host, int port))
            {
                IPAddress? ip = IPAddress.TryParse(host, out IPAddress? parsed) ? parsed : null;
                if (ip is null && type == DiscoveryType.Static)
                {
                    ctx.Error(address.Node, $"STATIC cluster endpoints must be IP literals, got \"{host}\"");
                }
                result = new EndpointModel { Host = host, Port = port, Address = ip, Weight = weight, TransportSocketMatch = socketMatch };
            }
        }
        else if (!le.Has("endpoint"))
        {
            le.Unsupported("endpoint_name", "named endpoints");
            ctx.Error(node, "endpoint is required");
        }
        le.Unsupported("health_status", "health_status");
        le.Finish();
        return result;
    }

    /// <summary>
    /// Endpoint metadata: only <c>filter_metadata["envoy.transport_socket_match"]</c> acts (it picks the transport socket);
    /// other namespaces (Istio's <c>istio</c> workload labels) feed telemetry and filters we do not run, so they are accepted unread.
    /// </summary>
    private static ImmutableDictionary<string, string> ReadEndpointMetadata(FieldReader md)
    {
        TranslationContext ctx = md.Context;
        ImmutableDictionary<string, string> match = ImmutableDictionary<string, string>.Empty;
        if (md.Take("filter_metadata") is ConfigMap fm && fm.Get("envoy.transport_socket_match") is ConfigNode tsm)
        {
            match = ClusterTranslator.StringStruct(ctx, tsm);
        }
        md.Ignore("typed_filter_metadata");
        md.Finish();
        return match;
    }
}
