using System.Collections.Immutable;
using Sidecar.Core.Config.Tree;
using Sidecar.Core.Protobuf;

namespace Sidecar.Core.Xds.Decoding;

/// <summary>Why a resource could not be turned into a config tree (or a tree into protobuf).</summary>
public enum XdsCodecError : byte
{
    None,
    /// <summary>The bytes are not valid protobuf wire format; <see cref="XdsDecodeResult.WireError"/> says how.</summary>
    Malformed,
    /// <summary>A known field arrived with a wire type its declared type cannot have (protobuf.dev "Encoding").</summary>
    WrongWireType,
    /// <summary>The resource's own type URL names no message in the schema.</summary>
    UnknownResourceType,
    /// <summary>An Any whose type_url names a message the schema does not know (and opaque Anys were not allowed).</summary>
    UnknownAnyType,
    /// <summary>An Any with an empty type_url, or a JSON Any without "@type".</summary>
    BadAny,
    /// <summary>Messages nested deeper than the limit (a defence against stack exhaustion).</summary>
    TooDeep,
    /// <summary>A Duration or Timestamp outside its documented range, or a map entry that is not a valid entry.</summary>
    OutOfRange,
    /// <summary>Encoder: a JSON key that names no field of the message.</summary>
    UnknownField,
    /// <summary>Encoder: a JSON value of the wrong kind for its field (a string for a bool, a bad enum name…).</summary>
    BadValue,
    /// <summary>Encoder: two members of one oneof set (proto3 JSON parsers reject that too).</summary>
    OneofConflict,
}

/// <summary>A field number the schema does not know, met in a known message: skipped, and reported so the xDS layer can decide.</summary>
public readonly record struct UnknownField(string Message, int Number, string Path);

/// <summary>The outcome of <see cref="ProtoTreeDecoder"/>: a tree, or an error with the path where it happened.</summary>
public sealed class XdsDecodeResult
{
    internal XdsDecodeResult(ConfigNode? tree, XdsCodecError error, ProtoError wireError, string path, string detail, ImmutableArray<UnknownField> unknown)
    {
        Tree = tree;
        Error = error;
        WireError = wireError;
        ErrorPath = path;
        Detail = detail;
        UnknownFields = unknown;
    }

    /// <summary>Set exactly when <see cref="Error"/> is None.</summary>
    public ConfigNode? Tree { get; }
    public XdsCodecError Error { get; }
    public ProtoError WireError { get; }
    public string ErrorPath { get; }
    public string Detail { get; }
    public ImmutableArray<UnknownField> UnknownFields { get; }
    public bool IsSuccess => Error == XdsCodecError.None;

    /// <summary>"listener.filter_chains[2].filters[0].typed_config: UnknownAnyType (type.googleapis.com/x.Y)".</summary>
    public override string ToString() => IsSuccess ? "ok" :
        $"{ErrorPath}: {Error}{(WireError != ProtoError.None ? "/" + WireError : "")}{(Detail.Length > 0 ? " (" + Detail + ")" : "")}";
}

/// <summary>The outcome of <see cref="ProtoTreeEncoder"/>: bytes, or an error with the tree path where it happened.</summary>
public sealed class XdsEncodeResult
{
    internal XdsEncodeResult(byte[]? bytes, XdsCodecError error, string path, string detail)
    {
        Bytes = bytes;
        Error = error;
        ErrorPath = path;
        Detail = detail;
    }

    public byte[]? Bytes { get; }
    public XdsCodecError Error { get; }
    public string ErrorPath { get; }
    public string Detail { get; }
    public bool IsSuccess => Error == XdsCodecError.None;

    public override string ToString() => IsSuccess ? "ok" : $"{ErrorPath}: {Error}{(Detail.Length > 0 ? " (" + Detail + ")" : "")}";
}

/// <summary>Decoder options.</summary>
public sealed record XdsDecodeOptions
{
    public static readonly XdsDecodeOptions Default = new();

    /// <summary>
    /// When true, an Any of an unknown type becomes <c>{"@type": url, "@opaque": base64}</c> instead of an error.
    /// The "@opaque" key is no field of anything, so a strict translator still refuses it by name.
    /// </summary>
    public bool AllowOpaqueAny { get; init; }

    /// <summary>Messages nested deeper than this fail with <see cref="XdsCodecError.TooDeep"/> (protobuf's own default limit is 100).</summary>
    public int MaxDepth { get; init; } = 100;
}
