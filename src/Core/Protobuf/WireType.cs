namespace Sidecar.Core.Protobuf;

/// <summary>The wire types of the protobuf encoding (protobuf.dev "Encoding": the low 3 bits of a tag).</summary>
public enum WireType : byte
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>Why a protobuf message could not be read. Sticky on <see cref="ProtoReader"/>: the first error wins.</summary>
public enum ProtoError : byte
{
    None,
    /// <summary>The input ends inside a tag, varint, fixed value or length-delimited field.</summary>
    Truncated,
    /// <summary>A varint longer than 10 bytes.</summary>
    VarintTooLong,
    /// <summary>Wire type 6 or 7, or a field read with a wire type its schema does not allow.</summary>
    BadWireType,
    /// <summary>Field number 0 or above 2^29-1.</summary>
    BadFieldNumber,
    /// <summary>A length prefix past the end of the input or above int.MaxValue.</summary>
    LengthOutOfRange,
    /// <summary>A <c>string</c> field that is not valid UTF-8 (proto3 requires it).</summary>
    BadUtf8,
    /// <summary>Groups (wire types 3/4) are proto2-only and never used by the xDS APIs.</summary>
    GroupsUnsupported,
    /// <summary>Nested messages deeper than the reader allows (a defence against stack exhaustion).</summary>
    TooDeep,
}
