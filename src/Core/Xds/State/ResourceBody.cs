using Sidecar.Core.Protobuf;
using Sidecar.Core.Xds.Protocol;

namespace Sidecar.Core.Xds;

/// <summary>Turns one Any of a response into an <see cref="XdsResource"/>, or says why it cannot.</summary>
internal static class ResourceBody
{
    /// <summary>
    /// The Any must carry the response's type (xDS protocol: all resources of a response share its
    /// type_url); the name is the given one (Delta's Resource.name) or field 1 of the body.
    /// </summary>
    public static string? TryCreate(string responseType, XdsAny any, string name, string version, string where, out XdsResource? resource)
    {
        resource = null;
        string shortName = XdsTypeUrls.ShortName(responseType);
        if (any.TypeUrl != responseType) return $"{shortName} {where}: type_url {any.TypeUrl} in a {responseType} response";
        ProtoError error = DiscoveryResponseReader.TryReadNameField(any.Value.Span, out string bodyName);
        if (error != ProtoError.None) return $"{shortName} {where}: malformed protobuf ({error})";
        resource = new XdsResource(responseType, name.Length > 0 ? name : bodyName, version, any.Value);
        return null;
    }
}
