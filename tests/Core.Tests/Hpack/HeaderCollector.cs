using System.Text;
using Sidecar.Core.Hpack;

namespace Sidecar.Core.Tests.Hpack;

/// <summary>A decoded field as text (the corpora are ASCII/Latin-1; Latin-1 keeps every byte distinct).</summary>
internal readonly record struct Field(string Name, string Value, bool NeverIndexed = false)
{
    public override string ToString() => $"{Name}: {Value}{(NeverIndexed ? " (never indexed)" : "")}";
}

/// <summary>Records every field the decoder passes on.</summary>
internal sealed class HeaderCollector : IHpackHeaderSink
{
    public List<Field> Fields { get; } = [];

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) =>
        Fields.Add(new Field(Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value), neverIndexed));
}

/// <summary>Counts fields without keeping them: a sink that does not allocate, for the allocation tests.</summary>
internal sealed class CountingSink : IHpackHeaderSink
{
    public int Count;
    public long Bytes;

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed)
    {
        Count++;
        Bytes += name.Length + value.Length;
    }
}

internal static class HpackTestData
{
    public static byte[] Latin1(string s) => Encoding.Latin1.GetBytes(s);

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    public static byte[] FromHex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    /// <summary>Decodes a whole block in one fragment and returns the fields (asserting the status).</summary>
    public static List<Field> DecodeBlock(HpackDecoder decoder, byte[] block, HpackStatus expected = HpackStatus.Ok)
    {
        var sink = new HeaderCollector();
        Xunit.Assert.Equal(expected, decoder.Decode(block, endHeaders: true, sink));
        return sink.Fields;
    }

    /// <summary>The corpora do not record the never-indexed flag; compare names and values only.</summary>
    public static List<Field> WithoutFlags(List<Field> fields) => fields.ConvertAll(f => f with { NeverIndexed = false });

    public static string HpackConformance => Path.GetFullPath(Path.Combine(Config.RepoPaths.RepoRoot, "..", "shared", "conformance", "hpack"));
}
