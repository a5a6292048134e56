using System.Text.Json;
using Sidecar.Core.Config;
using Sidecar.Core.Config.Tree;
using Xunit;

namespace Sidecar.Core.Tests.Config;

public sealed class ConfigTreeTests
{
    private static ConfigNode Yaml(string text)
    {
        ConfigResult<ConfigNode> r = YamlTreeReader.Read(text);
        Assert.True(r.IsSuccess, ConfigErrorFormatter.Format(r.Errors));
        return r.Value!;
    }

    private static ConfigNode At(ConfigNode node, params object[] steps)
    {
        foreach (object s in steps)
        {
            node = s is int i ? ((ConfigList)node).Items[i] : ((ConfigMap)node).Get((string)s)!;
        }
        return node;
    }

    [Fact]
    public void YamlNodesKnowTheirPaths()
    {
        ConfigNode root = Yaml("""
            static_resources:
              listeners:
              - name: a
                filter_chains:
                - {}
                - filters:
                  - typed_config:
                      foo: 1
            """);
        ConfigNode foo = At(root, "static_resources", "listeners", 0, "filter_chains", 1, "filters", 0, "typed_config", "foo");
        Assert.Equal("static_resources.listeners[0].filter_chains[1].filters[0].typed_config.foo", foo.Path);
        Assert.Equal(8, foo.Line);
    }

    [Fact]
    public void YamlScalarKindsFollowTheCoreSchema()
    {
        ConfigNode root = Yaml("""
            a: 5
            b: "5"
            c: true
            d: ~
            e: 0.25s
            f: 1.5
            g: !!str 7
            """);
        Assert.Equal(ScalarKind.Number, ((ConfigScalar)At(root, "a")).Kind);
        Assert.Equal(ScalarKind.String, ((ConfigScalar)At(root, "b")).Kind);
        Assert.Equal(ScalarKind.Bool, ((ConfigScalar)At(root, "c")).Kind);
        Assert.Equal(ScalarKind.Null, ((ConfigScalar)At(root, "d")).Kind);
        Assert.Equal(ScalarKind.String, ((ConfigScalar)At(root, "e")).Kind);
        Assert.Equal(ScalarKind.Number, ((ConfigScalar)At(root, "f")).Kind);
        Assert.Equal(ScalarKind.String, ((ConfigScalar)At(root, "g")).Kind);
    }

    [Fact]
    public void AliasesAreCopiedWithTheirOwnPaths()
    {
        ConfigNode root = Yaml("""
            base: &b
              x: 1
            copy: *b
            """);
        ConfigScalar x = (ConfigScalar)At(root, "copy", "x");
        Assert.Equal("copy.x", x.Path);
        Assert.Equal("1", x.Text);
    }

    [Fact]
    public void MergeKeysFillMissingFieldsOnly()
    {
        ConfigNode root = Yaml("""
            defaults: &d
              connect_timeout: 1s
              type: STATIC
            cluster:
              <<: *d
              type: STRICT_DNS
            """);
        ConfigMap cluster = (ConfigMap)At(root, "cluster");
        Assert.Equal("STRICT_DNS", ((ConfigScalar)cluster.Get("type")!).Text);
        Assert.Equal("cluster.connect_timeout", cluster.Get("connect_timeout")!.Path);
        Assert.Null(cluster.Get("<<"));
    }

    [Fact]
    public void DuplicateKeysAreErrors()
    {
        ConfigResult<ConfigNode> r = YamlTreeReader.Read("a: 1\na: 2\n");
        Assert.Equal("a", Assert.Single(r.Errors).Path);
        ConfigResult<ConfigNode> j = JsonTreeReader.Read("""{"a": {"b": 1, "b": 2}}""");
        Assert.Equal("a.b", Assert.Single(j.Errors).Path);
    }

    [Fact]
    public void SyntaxErrorsAreResultsNotExceptions()
    {
        Assert.Contains("YAML syntax error", Assert.Single(YamlTreeReader.Read("a: [1, 2\nb: 3").Errors).Message);
        Assert.Contains("JSON syntax error", Assert.Single(JsonTreeReader.Read("{\"a\": ").Errors).Message);
        Assert.Contains("unknown YAML alias", Assert.Single(YamlTreeReader.Read("a: *nope").Errors).Message);
    }

    [Fact]
    public void JsonTreeKeepsKindsAndPaths()
    {
        ConfigResult<ConfigNode> r = JsonTreeReader.Read("""{"a": [{"@type": "x", "n": 1.5, "t": false, "z": null}]}""");
        Assert.True(r.IsSuccess);
        ConfigNode root = r.Value!;
        Assert.Equal("a[0].@type", At(root, "a", 0, "@type").Path);
        Assert.Equal(ScalarKind.Number, ((ConfigScalar)At(root, "a", 0, "n")).Kind);
        Assert.Equal(ScalarKind.Bool, ((ConfigScalar)At(root, "a", 0, "t")).Kind);
        Assert.Equal(ScalarKind.Null, ((ConfigScalar)At(root, "a", 0, "z")).Kind);
    }

    [Fact]
    public void KeysWithDotsAreBracketQuotedInPaths()
    {
        ConfigNode root = Yaml("opts:\n  envoy.ext.v3.X:\n    a: 1\n");
        Assert.Equal("opts[\"envoy.ext.v3.X\"].a", At(root, "opts", "envoy.ext.v3.X", "a").Path);
    }

    [Fact]
    public void JsonWriterRendersYamlAsEquivalentJson()
    {
        ConfigNode root = Yaml("""
            a: 5
            b: "5"
            c: [true, ~, 0x1F, text]
            """);
        string json = ConfigJsonWriter.Write(root, indented: false);
        Assert.Equal("""{"a":5,"b":"5","c":[true,null,"0x1F","text"]}""", json);
        using JsonDocument _ = JsonDocument.Parse(json);
    }
}
