using Sidecar.Core.Config.Model;
using Sidecar.Core.Config.Translation;
using Sidecar.Core.Config.Tree;

namespace Sidecar.Core.Config;

/// <summary>
/// Loads an Envoy v3 bootstrap file (YAML or JSON) into a <see cref="BootstrapModel"/>.
/// Never throws for bad configuration: syntax, I/O and semantic problems all come back as errors.
/// </summary>
public static class ConfigLoader
{
    public static ConfigResult<BootstrapModel> LoadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return ConfigResult.Failure<BootstrapModel>("", $"cannot read {path}: {ex.Message}");
        }
        string ext = System.IO.Path.GetExtension(path);
        bool isJson = ext.Equals(".json", StringComparison.OrdinalIgnoreCase) ||
            (!ext.Equals(".yaml", StringComparison.OrdinalIgnoreCase) && !ext.Equals(".yml", StringComparison.OrdinalIgnoreCase) && LooksLikeJson(text));
        return LoadText(text, isJson);
    }

    /// <summary>Loads from text; <paramref name="isJson"/> null means "detect from content".</summary>
    public static ConfigResult<BootstrapModel> LoadText(string text, bool? isJson = null)
    {
        ConfigResult<ConfigNode> tree = ReadTree(text, isJson ?? LooksLikeJson(text));
        return tree.Value is ConfigNode root
            ? EnvoyBootstrapTranslator.Translate(root)
            : ConfigResult.Failure<BootstrapModel>(tree.Errors);
    }

    /// <summary>
    /// Loads a bootstrap for <c>sidecar proxy</c>: like <see cref="LoadText"/>, except that one with
    /// <c>dynamic_resources</c> (ADS, as istio-agent renders it) is translated without that section — its static part
    /// serves until xDS adds the rest — and the tree is returned for the xDS composer.
    /// </summary>
    public static (ConfigResult<BootstrapModel> Result, ConfigNode? Tree, bool UsesAds) LoadForProxy(string text, bool? isJson = null)
    {
        ConfigResult<ConfigNode> tree = ReadTree(text, isJson ?? LooksLikeJson(text));
        if (tree.Value is not ConfigNode root) return (ConfigResult.Failure<BootstrapModel>(tree.Errors), null, false);
        bool ads = root is ConfigMap map && map.Get("dynamic_resources") is not null;
        ConfigNode staticPart = ads ? DynamicBootstrapComposer.Compose(root, [], new Dictionary<string, ConfigNode>(), [], new Dictionary<string, ConfigNode>()) : root;
        return (EnvoyBootstrapTranslator.Translate(staticPart), root, ads);
    }

    /// <summary>Reads a file for <see cref="LoadForProxy"/>.</summary>
    public static (ConfigResult<BootstrapModel> Result, ConfigNode? Tree, bool UsesAds) LoadFileForProxy(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return (ConfigResult.Failure<BootstrapModel>("", $"cannot read {path}: {ex.GetType().Name}"), null, false);
        }
        string ext = System.IO.Path.GetExtension(path);
        bool isJson = ext.Equals(".json", StringComparison.OrdinalIgnoreCase) ||
            (!ext.Equals(".yaml", StringComparison.OrdinalIgnoreCase) && !ext.Equals(".yml", StringComparison.OrdinalIgnoreCase) && LooksLikeJson(text));
        return LoadForProxy(text, isJson);
    }

    /// <summary>Parses text into the format-neutral tree without translating it.</summary>
    public static ConfigResult<ConfigNode> ReadTree(string text, bool isJson) =>
        isJson ? JsonTreeReader.Read(text) : YamlTreeReader.Read(text);

    /// <summary>JSON documents start with '{' (YAML flow mappings do too, and parse as JSON anyway when valid).</summary>
    private static bool LooksLikeJson(string text)
    {
        ReadOnlySpan<char> t = text.AsSpan().TrimStart();
        if (!t.IsEmpty && t[0] == '\uFEFF')
        {
            t = t[1..].TrimStart();
        }
        return !t.IsEmpty && t[0] == '{';
    }
}
