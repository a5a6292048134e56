using System.Collections.Immutable;
using System.Net.Security;
using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Identity;
using Sidecar.Core.Tls;

namespace Sidecar.Core.Config.Translation;

/// <summary>
/// <c>transport_socket</c> with <c>envoy.transport_sockets.tls</c> (Downstream/UpstreamTlsContext) or
/// <c>raw_buffer</c>. Certificates come inline/from files (loaded and checked now) or from SDS names, which the
/// snapshot binds to the workload certificate source (<c>default</c>, <c>ROOTCA</c>, as istio-proxy's agent serves).
/// </summary>
internal static class TlsContextTranslator
{
    /// <summary>Filter chain transport socket; null for plaintext (absent or raw_buffer).</summary>
    public static DownstreamTlsModel? ReadDownstream(TranslationContext ctx, ConfigNode? socket, TimeSpan? handshakeTimeout)
    {
        if (Open(ctx, socket, Extension.DownstreamTls) is not FieldReader d)
        {
            return null;
        }
        bool requireClient = d.Bool("require_client_certificate") ?? false;
        d.Ignore("session_timeout"); // SslStream manages its own ticket lifetime
        d.Unsupported("require_sni", "require_sni");
        d.Unsupported("session_ticket_keys", "session_ticket_keys");
        d.Unsupported("session_ticket_keys_sds_secret_config", "session_ticket_keys_sds_secret_config");
        d.Unsupported("ocsp_staple_policy", "ocsp_staple_policy");
        Common common = ReadCommon(d.Message("common_tls_context"), d.Node);
        d.Finish();
        if (!common.CertificateConfigured)
        {
            ctx.Error(d.Node, "a DownstreamTlsContext needs a certificate (tls_certificates or tls_certificate_sds_secret_configs)");
        }
        if (requireClient && !common.Secrets.HasTrust && !ctx.HasErrors)
        {
            ctx.Error(d.Node, "require_client_certificate needs a validation context (trusted_ca or validation_context_sds_secret_config)");
        }
        return new DownstreamTlsModel
        {
            Options = new DownstreamTlsOptions
            {
                RequireClientCertificate = requireClient,
                MatchSubjectAltNames = common.Sans,
                ApplicationProtocols = common.Alpn,
                MinimumVersion = common.Minimum,
                MaximumVersion = common.Maximum,
                TrustBundle = common.Secrets.InlineTrust,
            },
            Secrets = common.Secrets,
            HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(10),
        };
    }

    /// <summary>Cluster transport socket; null for plaintext (absent or raw_buffer).</summary>
    public static UpstreamTlsModel? ReadUpstream(TranslationContext ctx, ConfigNode? socket)
    {
        if (Open(ctx, socket, Extension.UpstreamTls) is not FieldReader u)
        {
            return null;
        }
        string? sni = u.String("sni");
        u.Ignore("max_session_keys"); // SslStream keeps its own client session cache
        u.Unsupported("allow_renegotiation", "allow_renegotiation");
        Common common = ReadCommon(u.Message("common_tls_context"), u.Node);
        u.Finish();
        return new UpstreamTlsModel
        {
            Options = new UpstreamTlsOptions
            {
                ServerName = sni,
                MatchSubjectAltNames = common.Sans,
                ApplicationProtocols = common.Alpn,
                MinimumVersion = common.Minimum,
                MaximumVersion = common.Maximum,
                PresentClientCertificate = common.Secrets.HasCertificate,
                TrustBundle = common.Secrets.InlineTrust,
                VerifyServer = common.Secrets.HasTrust,
            },
            Secrets = common.Secrets,
        };
    }

    private static FieldReader? Open(TranslationContext ctx, ConfigNode? socket, Extension tls)
    {
        if (socket is null)
        {
            return null;
        }
        FieldReader s = new(ctx, socket);
        if (!s.IsValid || ExtensionEntry.Read(s) is not ExtensionEntry e)
        {
            return null;
        }
        if (Extension.RawBuffer.Matches(e.Id))
        {
            e.FinishEmpty();
            return null;
        }
        if (e.Id == tls.Name && e.Config is null)
        {
            ctx.Error(socket, $"{tls.Name} needs a typed_config ({tls.TypeName})");
            return null;
        }
        if (!tls.Matches(e.Id) || e.Config is null)
        {
            ctx.Unsupported(e.IdNode, $"transport socket {e.Id}");
            return null;
        }
        return e.Config;
    }

    /// <param name="CertificateConfigured">Whether any certificate entry was given (even one that failed to load and was reported).</param>
    private sealed record Common(TlsSecretsModel Secrets, ImmutableArray<SanMatcher> Sans, SslApplicationProtocol[] Alpn, TlsVersion Minimum, TlsVersion Maximum, bool CertificateConfigured = false);

    private static Common ReadCommon(FieldReader? c, ConfigNode parent)
    {
        if (c is null || !c.IsValid)
        {
            return new Common(new TlsSecretsModel(), [], [], TlsVersion.Tls12, TlsVersion.Tls13);
        }
        TranslationContext ctx = c.Context;
        (TlsVersion min, TlsVersion max) = c.Message("tls_params") is FieldReader p ? ReadParams(p) : (TlsVersion.Tls12, TlsVersion.Tls13);
        SslApplicationProtocol[] alpn = [.. ctx.Strings(c.Take("alpn_protocols")).Select(a => new SslApplicationProtocol(a))];

        // Certificate: inline/file (at most one, which is all Envoy allows per key type and all Istio sends) or SDS.
        string? certificateSds = null;
        (string Chain, string Key, ConfigNode Node)? inline = null;
        ImmutableArray<ConfigNode> certs = ctx.Items(c.Take("tls_certificates"));
        if (certs.Length > 1)
        {
            ctx.Error(certs[1], "only one tls_certificates entry is supported");
        }
        if (certs.Length > 0 && new FieldReader(ctx, certs[0]) is { IsValid: true } t)
        {
            string? chain = DataSourceTranslator.ReadText(ctx, t.Take("certificate_chain"), t.Node, "certificate_chain");
            string? key = DataSourceTranslator.ReadText(ctx, t.Take("private_key"), t.Node, "private_key");
            t.Unsupported("password", "encrypted private keys");
            t.Unsupported("pkcs12", "pkcs12");
            t.Unsupported("watched_directory", "watched_directory");
            t.Unsupported("private_key_provider", "private_key_provider");
            t.Unsupported("ocsp_staple", "ocsp_staple");
            t.Finish();
            if (chain is not null && key is not null) inline = (chain, key, t.Node);
        }
        ImmutableArray<ConfigNode> sdsCerts = ctx.Items(c.Take("tls_certificate_sds_secret_configs"));
        if (sdsCerts.Length > 1)
        {
            ctx.Error(sdsCerts[1], "only one tls_certificate_sds_secret_configs entry is supported");
        }
        if (sdsCerts.Length > 0)
        {
            certificateSds = ReadSdsName(ctx, sdsCerts[0]);
        }
        if (inline is not null && certificateSds is not null)
        {
            ctx.Error(c.Node, "tls_certificates and tls_certificate_sds_secret_configs are mutually exclusive");
        }

        // Validation: validation_context, validation_context_sds_secret_config, or combined (default + SDS).
        string? trustSds = null;
        TrustBundle? trust = null;
        ImmutableArray<SanMatcher> sans = [];
        int validations = 0;
        if (c.Message("validation_context") is FieldReader v)
        {
            validations++;
            (trust, sans) = ReadValidation(v);
        }
        if (c.Take("validation_context_sds_secret_config") is { } vs)
        {
            validations++;
            trustSds = ReadSdsName(ctx, vs);
        }
        if (c.Message("combined_validation_context") is FieldReader cv && cv.IsValid)
        {
            validations++;
            if (cv.Message("default_validation_context") is FieldReader dv)
            {
                (trust, sans) = ReadValidation(dv);
            }
            trustSds = cv.Take("validation_context_sds_secret_config") is { } cvs ? ReadSdsName(ctx, cvs) : null;
            cv.Finish();
            if (trustSds is null)
            {
                ctx.Error(cv.Node, "validation_context_sds_secret_config is required");
            }
        }
        if (validations > 1)
        {
            ctx.Error(c.Node, "only one of validation_context, validation_context_sds_secret_config and combined_validation_context is allowed");
        }
        if (trust is not null && trustSds is not null)
        {
            ctx.Error(c.Node, "trusted_ca cannot be combined with an SDS validation context");
        }
        c.Unsupported("tls_certificate_provider_instance", "certificate provider instances");
        c.Unsupported("custom_handshaker", "custom_handshaker");
        c.Unsupported("key_log", "key_log");
        c.Finish();

        WorkloadCertificate? certificate = null;
        if (inline is { } i)
        {
            // The loader wants roots with the chain; without a validation context the chain itself stands in (it is
            // never used to verify a peer then: no client certificate is requested, the server is not verified).
            string roots = trust is not null ? ExportPem(trust) : i.Chain;
            CertificateLoadError error = WorkloadCertificateLoader.TryLoad(i.Chain, i.Key, roots, DateTimeOffset.UtcNow, out certificate);
            if (error != CertificateLoadError.None)
            {
                ctx.Error(i.Node, $"certificate refused: {error}");
            }
        }
        var secrets = new TlsSecretsModel { CertificateSds = certificateSds, InlineCertificate = certificate, TrustSds = trustSds, InlineTrust = trust };
        return new Common(secrets, sans, alpn, min, max, certs.Length > 0 || sdsCerts.Length > 0);
    }

    private static string? ReadSdsName(TranslationContext ctx, ConfigNode node)
    {
        FieldReader s = new(ctx, node);
        if (!s.IsValid)
        {
            return null;
        }
        string? name = s.String("name");
        // Bound by name when the snapshot is built (TlsBindings): default/ROOTCA to the workload source, file-cert:/
        // file-root: to the files they name, any other name to the secrets istiod serves over ADS.
        s.Ignore("sds_config");
        s.Finish();
        if (name is null)
        {
            ctx.Error(node, "name is required");
        }
        else if ((name.StartsWith(Xds.Secrets.SdsSecretNames.FileCertPrefix, StringComparison.Ordinal) && !Xds.Secrets.SdsSecretNames.TryParseFileCert(name, out _, out _))
            || (name.StartsWith(Xds.Secrets.SdsSecretNames.FileRootPrefix, StringComparison.Ordinal) && !Xds.Secrets.SdsSecretNames.TryParseFileRoot(name, out _)))
        {
            ctx.Error(node, $"SDS secret \"{name}\": istio-agent's file names are file-cert:<chain path>~<key path> and file-root:<path>");
            return null;
        }
        return name;
    }

    private static (TrustBundle?, ImmutableArray<SanMatcher>) ReadValidation(FieldReader v)
    {
        TranslationContext ctx = v.Context;
        if (!v.IsValid)
        {
            return (null, []);
        }
        TrustBundle? trust = null;
        if (v.Take("trusted_ca") is { } ca && DataSourceTranslator.ReadText(ctx, ca, v.Node, "trusted_ca") is string pem)
        {
            // Istio 1.28 parses bundles leniently: bad blocks are skipped; only "no valid root" is an error.
            if (TrustBundle.TryParse(pem, out trust) != TrustBundleError.None)
            {
                ctx.Error(ca, "trusted_ca holds no valid root certificate");
            }
        }
        var sans = ImmutableArray.CreateBuilder<SanMatcher>();
        foreach (ConfigNode m in ctx.Items(v.Take("match_typed_subject_alt_names")))
        {
            FieldReader r = new(ctx, m);
            if (!r.IsValid)
            {
                continue;
            }
            string? type = r.Enum("san_type", "DNS", "URI");
            StringMatcherModel? matcher = r.Take("matcher") is { } mn ? MatcherTranslator.ReadStringMatcher(ctx, mn) : null;
            r.Finish();
            if (type is null || matcher is null)
            {
                ctx.Error(m, "san_type and matcher are required");
                continue;
            }
            if (ToSan(ctx, m, type == "URI" ? SanType.Uri : SanType.Dns, matcher) is SanMatcher san) sans.Add(san);
        }
        // Deprecated match_subject_alt_names: any SAN type; DNS and URI are the ones a mesh peer carries.
        foreach (ConfigNode m in ctx.Items(v.Take("match_subject_alt_names")))
        {
            if (MatcherTranslator.ReadStringMatcher(ctx, m) is not StringMatcherModel matcher)
            {
                continue;
            }
            if (ToSan(ctx, m, SanType.Uri, matcher) is SanMatcher uri) sans.Add(uri);
            if (ToSan(ctx, m, SanType.Dns, matcher) is SanMatcher dns) sans.Add(dns);
        }
        v.Unsupported("verify_certificate_spki", "verify_certificate_spki");
        v.Unsupported("verify_certificate_hash", "verify_certificate_hash");
        v.Unsupported("crl", "crl");
        v.Unsupported("allow_expired_certificate", "allow_expired_certificate");
        v.Unsupported("trust_chain_verification", "trust_chain_verification");
        v.Unsupported("custom_validator_config", "custom_validator_config");
        v.Unsupported("system_root_certs", "system_root_certs (mesh TLS trusts the mesh roots only)");
        v.Finish();
        return (trust, sans.ToImmutable());
    }

    private static SanMatcher? ToSan(TranslationContext ctx, ConfigNode node, SanType type, StringMatcherModel m)
    {
        SanMatchKind? kind = m.Kind switch
        {
            StringMatchKind.Exact => SanMatchKind.Exact,
            StringMatchKind.Prefix => SanMatchKind.Prefix,
            StringMatchKind.Suffix => SanMatchKind.Suffix,
            _ => null,
        };
        if (kind is null || m.IgnoreCase)
        {
            ctx.Error(node, "subject alt name matchers support exact, prefix and suffix (case-sensitive)");
            return null;
        }
        return new SanMatcher(type, kind.Value, m.Value);
    }

    private static (TlsVersion, TlsVersion) ReadParams(FieldReader p)
    {
        TranslationContext ctx = p.Context;
        // TLS_AUTO is Envoy's default: 1.2 minimum for servers and clients, 1.3 maximum.
        TlsVersion Version(string? name, TlsVersion auto) => name switch
        {
            "TLSv1_2" => TlsVersion.Tls12,
            "TLSv1_3" => TlsVersion.Tls13,
            _ => auto,
        };
        string? minName = p.Enum("tls_minimum_protocol_version", "TLS_AUTO", "TLSv1_2", "TLSv1_3");
        string? maxName = p.Enum("tls_maximum_protocol_version", "TLS_AUTO", "TLSv1_2", "TLSv1_3");
        TlsVersion min = Version(minName, TlsVersion.Tls12);
        TlsVersion max = Version(maxName, TlsVersion.Tls13);
        // Cipher suites and curves are the platform's (OpenSSL's TLS 1.3 and ECDHE suites); Istio's defaults are a subset.
        p.Ignore("cipher_suites");
        p.Ignore("ecdh_curves");
        p.Unsupported("signature_algorithms", "signature_algorithms");
        p.Finish();
        if (min > max)
        {
            ctx.Error(p.Node, "tls_minimum_protocol_version is above tls_maximum_protocol_version");
        }
        return (min, max);
    }

    private static string ExportPem(TrustBundle bundle)
    {
        var pem = new System.Text.StringBuilder();
        foreach (var root in bundle.Roots) pem.Append(root.ExportCertificatePem()).Append('\n');
        return pem.ToString();
    }
}
