using System.Buffers;

namespace Sidecar.Core.Tests.Http1;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s so tests see the same shapes a pipe produces.</summary>
internal static class TestSequence
{
    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>Splits <paramref name="data"/> at the given ascending offsets (empty pieces allowed).</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts)
    {
        if (cuts.Length == 0) return new ReadOnlySequence<byte>(data);
        var first = new Segment(data.AsMemory(0, cuts[0]), 0);
        Segment last = first;
        for (int i = 1; i <= cuts.Length; i++)
        {
            int from = cuts[i - 1];
            int to = i < cuts.Length ? cuts[i] : data.Length;
            last = last.Append(data.AsMemory(from, to - from));
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>One segment per byte: the worst case for any code that assumes contiguous input.</summary>
    public static ReadOnlySequence<byte> PerByte(byte[] data)
    {
        if (data.Length < 2) return new ReadOnlySequence<byte>(data);
        int[] cuts = new int[data.Length - 1];
        for (int i = 0; i < cuts.Length; i++) cuts[i] = i + 1;
        return Split(data, cuts);
    }
}
