using System.Collections.Immutable;

namespace Sidecar.Core.Config.Envoy;

/// <summary>What a translator does with a field it recognizes.</summary>
public enum EnvoyFieldUse
{
    /// <summary>Read and acted on.</summary>
    Read,

    /// <summary>Accepted and deliberately not acted on (each case is documented in docs/CONFIG.md).</summary>
    Ignored,

    /// <summary>Recognized and refused with a specific "unsupported: …" error rather than the generic one.</summary>
    Refused,
}

/// <summary>
/// One field of an Envoy message as upstream declares it. <see cref="Type"/> is the proto type spelled the
/// way a .proto file would after name resolution: a scalar (<c>string</c>, <c>uint32</c>…), a fully
/// qualified message or enum name, prefixed with <c>repeated </c>, or <c>map&lt;K, V&gt;</c>.
/// </summary>
public sealed record EnvoyField(string Name, int Number, string Type, EnvoyFieldUse Use);

/// <summary>An Envoy message (fully qualified proto name) and the fields of it that our translators know.</summary>
public sealed record EnvoyMessage(string FullName, ImmutableArray<EnvoyField> Fields);

/// <summary>One enum value: protojson carries the name, the binary wire form the number.</summary>
public sealed record EnvoyEnumValue(string Name, int Number);

/// <summary>An Envoy enum and the values of it that our translators accept.</summary>
public sealed record EnvoyEnum(string FullName, ImmutableArray<EnvoyEnumValue> Values);
