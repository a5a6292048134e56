using System.Collections.Concurrent;
using System.Diagnostics;

namespace Sidecar.Core.Transport.Sockets;

/// <summary>
/// A diagnostic for the transport's pool (SIDECAR_TRANSPORT_QUARANTINE=1): a returned block is filled with a pattern
/// and kept out of use for <see cref="HoldTime"/> (checked at every rent and return once due); when it comes back out, any byte that changed was written by
/// someone still holding memory of a pipe that had given the block back — the write would have landed in whatever
/// connection rents the block next (another connection's SETTINGS, say). Each such write is reported on stderr
/// with the bytes found, which name the frame or message written. Off by default: it costs a fill and a scan per
/// block and holds blocks for a while.
/// </summary>
internal sealed class BlockQuarantine
{
    private const byte Pattern = 0xA5;
    private static readonly long HoldTime = Stopwatch.Frequency / 10;

    private readonly ConcurrentQueue<(byte[] Array, long Since)> _held = new();
    private long _violations;

    public long Violations => Volatile.Read(ref _violations);

    private readonly ConcurrentQueue<byte[]> _clean = new();

    public void Hold(byte[] array)
    {
        array.AsSpan().Fill(Pattern);
        _held.Enqueue((array, Stopwatch.GetTimestamp()));
        Sweep();
    }

    /// <summary>A block held long enough and found clean; null when none is due (the caller allocates).</summary>
    public byte[]? TakeClean()
    {
        Sweep();
        return _clean.TryDequeue(out byte[]? array) ? array : null;
    }

    /// <summary>Checks every block held long enough: a clean one may be rented again, a dirty one is reported and dropped.</summary>
    private void Sweep()
    {
        long now = Stopwatch.GetTimestamp();
        while (_held.TryPeek(out (byte[] Array, long Since) head) && now - head.Since >= HoldTime)
        {
            if (!_held.TryDequeue(out head)) break;
            int dirty = head.Array.AsSpan().IndexOfAnyExcept(Pattern);
            if (dirty < 0)
            {
                _clean.Enqueue(head.Array);
                continue;
            }
            Interlocked.Increment(ref _violations);
            int end = head.Array.AsSpan().LastIndexOfAnyExcept(Pattern) + 1;
            Console.Error.WriteLine($"transport: a block was written after it was returned to the pool: bytes {dirty}..{end}: "
                + Convert.ToHexString(head.Array, dirty, Math.Min(end - dirty, 64)));
        }
    }
}
