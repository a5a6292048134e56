using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sidecar.Core.Transport.Sockets;

/// <summary>
/// The transport's buffers: fixed-size blocks (32 KiB by default) so one recv can take up to a block, where
/// Kestrel's pool hands out 4 KiB (measured: 4 KiB reads put a single bulk stream at 0.17× loopback). Blocks
/// live on the pinned object heap, so the socket calls take their address without pinning per call.
/// At most <see cref="MaxRetainedBlocks"/> free blocks are kept; a burst beyond that goes back to the GC,
/// so memory follows the busy connections and idle ones (which hold no block) cost none.
/// </summary>
public sealed class BlockMemoryPool : MemoryPool<byte>
{
    public const int DefaultBlockSize = 32 * 1024;
    private const int MaxRetainedBlocks = 512;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;
    private readonly BlockQuarantine? _quarantine;

    public BlockMemoryPool(int blockSize = DefaultBlockSize, bool quarantine = false)
    {
        if (blockSize < 4096) throw new ArgumentOutOfRangeException(nameof(blockSize), "a block holds at least one page");
        BlockSize = blockSize;
        _quarantine = quarantine ? new BlockQuarantine() : null;
    }

    public static new BlockMemoryPool Shared { get; } = new(BlockSizeFromEnvironment(), Environment.GetEnvironmentVariable("SIDECAR_TRANSPORT_QUARANTINE") == "1");

    /// <summary>Writes found in blocks after they were returned (quarantine mode only; see <see cref="BlockQuarantine"/>).</summary>
    public long WritesAfterReturn => _quarantine?.Violations ?? 0;

    public int BlockSize { get; }

    public override int MaxBufferSize => BlockSize;

    /// <summary>Blocks handed out and not yet returned (tests: an idle connection holds none).</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);
    private int _outstanding;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        Interlocked.Increment(ref _outstanding);
        if (_quarantine is not null)
        {
            byte[] array = _quarantine.TakeClean() ?? GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
            return new Block(this, array) { Rented = true };
        }
        if (_free.TryDequeue(out Block? block))
        {
            Interlocked.Decrement(ref _freeCount);
            block.Rented = true;
            return block;
        }
        return new Block(this, GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true)) { Rented = true };
    }

    private void Return(Block block)
    {
        Interlocked.Decrement(ref _outstanding);
        if (_quarantine is not null)
        {
            _quarantine.Hold(block.Array);
            return;
        }
        if (Interlocked.Increment(ref _freeCount) > MaxRetainedBlocks)
        {
            Interlocked.Decrement(ref _freeCount);
            return;
        }
        _free.Enqueue(block);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private static int BlockSizeFromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable("SIDECAR_TRANSPORT_BLOCK_KB"), out int kb) && kb is >= 4 and <= 1024 ? kb * 1024 : DefaultBlockSize;

    /// <summary>
    /// The address of a segment's first byte when it lies in one of our pinned blocks; null for memory from elsewhere
    /// (a pipe falls back to the array pool for a size hint beyond <see cref="MaxBufferSize"/>).
    /// </summary>
    public static unsafe byte* TryGetPinnedPointer(ReadOnlyMemory<byte> memory)
    {
        if (MemoryMarshal.TryGetMemoryManager(memory, out Block? block, out int start, out _))
            return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(block.Array)) + start;
        return null;
    }

    /// <summary>One block: a memory manager over a pinned array, reused across rentals (no allocation per rent).</summary>
    private sealed class Block(BlockMemoryPool pool, byte[] array) : MemoryManager<byte>
    {
        public byte[] Array { get; } = array;
        public bool Rented;

        public override Span<byte> GetSpan() => Array;

        public override unsafe MemoryHandle Pin(int elementIndex = 0) =>
            new((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Array)) + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
            // IMemoryOwner.Dispose: the pipe is done with the segment.
            if (!Rented) return;
            Rented = false;
            pool.Return(this);
        }
    }
}
