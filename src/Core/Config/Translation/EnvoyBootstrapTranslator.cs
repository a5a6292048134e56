using System.Collections.Frozen;
using System.Collections.Immutable;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config.Translation;

/// <summary>
/// The single translation from a config tree (Envoy v3 Bootstrap) to <see cref="BootstrapModel"/>.
/// Strict: every field we do not implement is an error rather than silently ignored, because a proxy
/// that quietly drops an auth filter or a TLS context is worse than one that refuses to start.
/// All errors are collected, in document order.
/// </summary>
public static class EnvoyBootstrapTranslator
{
    /// <param name="root">The bootstrap tree.</param>
    /// <param name="dynamicClusters">Clusters translated on their own by the same ClusterTranslator (xDS CDS, one resource
    /// at a time, cached per version), served beside the static ones; the caller has checked their names are distinct.</param>
    public static ConfigResult<BootstrapModel> Translate(ConfigNode root, IReadOnlyDictionary<string, ClusterModel>? dynamicClusters = null)
    {
        TranslationContext ctx = new();
        FieldReader b = new(ctx, root);
        if (!b.IsValid)
        {
            return ConfigResult.Failure<BootstrapModel>(ctx.Errors);
        }
        AdminModel? admin = b.Message("admin") is FieldReader a ? ReadAdmin(a) : null;
        NodeModel? node = b.Message("node") is FieldReader n ? ReadNode(n) : null;
        ImmutableArray<ListenerModel>.Builder listeners = ImmutableArray.CreateBuilder<ListenerModel>();
        Dictionary<string, ClusterModel> clusters = new(StringComparer.Ordinal);
        if (b.Message("static_resources") is FieldReader sr && sr.IsValid)
        {
            ReadListeners(ctx, sr.Take("listeners"), listeners);
            ReadClusters(ctx, sr.Take("clusters"), clusters);
            sr.Unsupported("secrets", "static secrets (TLS is not implemented)");
            sr.Finish();
        }
        b.Unsupported("dynamic_resources", "dynamic_resources (xDS is not wired to bootstrap files yet)");
        b.Finish();
        if (dynamicClusters is Dictionary<string, ClusterModel> { Count: > 0 } many && ReferenceEquals(many.Comparer, StringComparer.Ordinal))
        {
            // Thousands of xDS clusters: copied whole (no key hashed again), the static ones put back over them.
            var merged = new Dictionary<string, ClusterModel>(many, StringComparer.Ordinal);
            foreach (KeyValuePair<string, ClusterModel> s in clusters) merged[s.Key] = s.Value;
            clusters = merged;
        }
        else
        {
            foreach (KeyValuePair<string, ClusterModel> d in dynamicClusters ?? FrozenDictionary<string, ClusterModel>.Empty)
            {
                clusters.TryAdd(d.Key, d.Value);
            }
        }
        foreach ((ConfigNode refNode, string cluster) in ctx.ClusterReferences)
        {
            if (!clusters.ContainsKey(cluster))
            {
                ctx.Error(refNode, $"unknown cluster \"{cluster}\"");
            }
        }
        if (ctx.HasErrors)
        {
            return ConfigResult.Failure<BootstrapModel>(ctx.Errors);
        }
        return ConfigResult.Success(new BootstrapModel
        {
            Admin = admin,
            Node = node,
            Listeners = listeners.ToImmutable(),
            Clusters = new NameDictionary<ClusterModel>(clusters),
            SourceJson = ConfigJsonWriter.Write(root),
        });
    }

    private static AdminModel? ReadAdmin(FieldReader a)
    {
        if (!a.IsValid)
        {
            return null;
        }
        FieldReader? address = a.Message("address");
        System.Net.IPEndPoint? ep = address is null ? null : AddressTranslator.ReadIpEndPoint(address);
        if (address is null)
        {
            a.Context.Error(a.Node, "address is required");
        }
        // Admin access logs are accepted and not written (docs/CONFIG.md): the admin endpoint has its own logging.
        a.Ignore("access_log_path");
        a.Ignore("access_log");
        a.Finish();
        return ep is null ? null : new AdminModel { Address = ep };
    }

    private static NodeModel? ReadNode(FieldReader n)
    {
        if (!n.IsValid)
        {
            return null;
        }
        NodeModel model = new() { Id = n.String("id") ?? "", Cluster = n.String("cluster") ?? "" };
        // Metadata is free-form (istio puts its proxy settings here); kept in SourceJson for xDS, not interpreted.
        if (n.Take("metadata") is { } md && md is not ConfigMap)
        {
            n.Context.Error(md, "expected an object");
        }
        n.Finish();
        return model;
    }

    private static void ReadListeners(TranslationContext ctx, ConfigNode? node, ImmutableArray<ListenerModel>.Builder into)
    {
        Dictionary<string, ConfigNode> names = new(StringComparer.Ordinal);
        foreach (ConfigNode item in ctx.Items(node))
        {
            if (ListenerTranslator.Translate(ctx, item) is not ListenerModel l)
            {
                continue;
            }
            if (!names.TryAdd(l.Name, item))
            {
                ctx.Error(item, $"duplicate listener name \"{l.Name}\"");
                continue;
            }
            into.Add(l);
        }
    }

    private static void ReadClusters(TranslationContext ctx, ConfigNode? node, Dictionary<string, ClusterModel> into)
    {
        foreach (ConfigNode item in ctx.Items(node))
        {
            if (ClusterTranslator.Translate(ctx, item) is ClusterModel c && !into.TryAdd(c.Name, c))
            {
                ctx.Error(item, $"duplicate cluster name \"{c.Name}\"");
            }
        }
    }
}
