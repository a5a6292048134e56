using System.Buffers;

namespace Sidecar.Core.Tests.Detect;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/> values, as a socket pipe would deliver them.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Of(params byte[][] chunks)
    {
        if (chunks.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(chunks[0], 0);
        Segment last = first;
        for (int i = 1; i < chunks.Length; i++)
        {
            last = last.Append(chunks[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Two segments split at <paramref name="at"/>.</summary>
    public static ReadOnlySequence<byte> SplitAt(byte[] data, int at) => Of(data[..at], data[at..]);

    /// <summary>One segment per <paramref name="size"/> bytes.</summary>
    public static ReadOnlySequence<byte> Chunked(byte[] data, int size) => Of(data.Chunk(size).ToArray());

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] data)
        {
            var next = new Segment(data, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
