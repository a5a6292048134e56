using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Sidecar.Core.Async;

/// <summary>
/// An async method builder for <see cref="ValueTask{TResult}"/> whose state-machine boxes come from a
/// bounded pool per method. Why not the BCL's <see cref="PoolingAsyncValueTaskMethodBuilder{TResult}"/>:
/// its cache holds one box per thread plus one per core, and a proxied request migrates between the
/// threads that complete the downstream and upstream socket operations, so most rents missed and every
/// request allocated ~40–90 B of boxes (measured in ProxyAllocationTests). Here a box returns to a
/// shared stack when its result is consumed, so steady state rents never allocate.
/// Contract (as for any pooled ValueTask): await each returned task exactly once.
/// </summary>
#pragma warning disable CA1000 // the compiler requires a static Create() on the builder type
public struct PooledValueTaskMethodBuilder<TResult>
{
    private PooledBox<TResult>? _box;
    private TResult _result;

    public static PooledValueTaskMethodBuilder<TResult> Create() => default;

    public readonly ValueTask<TResult> Task => _box is { } box ? new ValueTask<TResult>(box, box.Version) : new ValueTask<TResult>(_result);

    public void Start<TStateMachine>(ref TStateMachine stateMachine) where TStateMachine : IAsyncStateMachine
    {
        // No ExecutionContext capture/restore: nothing on the data path uses AsyncLocal.
        stateMachine.MoveNext();
    }

    public readonly void SetStateMachine(IAsyncStateMachine stateMachine)
    {
    }

    public void SetResult(TResult result)
    {
        if (_box is null) _result = result;
        else _box.SetResult(result);
    }

    public void SetException(Exception exception)
    {
        _box ??= new FaultedBox<TResult>();
        _box.SetException(exception);
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion where TStateMachine : IAsyncStateMachine
        => awaiter.OnCompleted(GetBox(ref stateMachine).MoveNextAction);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion where TStateMachine : IAsyncStateMachine
        => awaiter.UnsafeOnCompleted(GetBox(ref stateMachine).MoveNextAction);

    private StateMachineBox<TStateMachine, TResult> GetBox<TStateMachine>(ref TStateMachine stateMachine) where TStateMachine : IAsyncStateMachine
    {
        if (_box is StateMachineBox<TStateMachine, TResult> existing) return existing;
        var box = StateMachineBox<TStateMachine, TResult>.Rent();
        // Set the box on this builder before copying the state machine (which contains this builder)
        // into the box, so the copy that runs from now on completes through the same box.
        _box = box;
        box.StateMachine = stateMachine;
        return box;
    }
}

/// <summary>The completion source part of a box: what the awaiting caller sees.</summary>
public abstract class PooledBox<TResult> : IValueTaskSource<TResult>
{
    protected ManualResetValueTaskSourceCore<TResult> Core;

    public short Version => Core.Version;
    public void SetResult(TResult result) => Core.SetResult(result);
    public void SetException(Exception e) => Core.SetException(e);
    public ValueTaskSourceStatus GetStatus(short token) => Core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => Core.OnCompleted(continuation, state, token, flags);

    public TResult GetResult(short token)
    {
        // A stale token (a second await of the same task) must not recycle the box a second time:
        // two state machines would then share it. Only the owner's one GetResult returns it to the pool.
        if (token != Core.Version) throw new InvalidOperationException("a pooled ValueTask was awaited twice");
        try
        {
            return Core.GetResult(token);
        }
        finally
        {
            Recycle();
        }
    }

    protected abstract void Recycle();
}

internal sealed class FaultedBox<TResult> : PooledBox<TResult>
{
    protected override void Recycle()
    {
    }
}

internal sealed class StateMachineBox<TStateMachine, TResult> : PooledBox<TResult> where TStateMachine : IAsyncStateMachine
{
    /// <summary>Enough for every request in flight on a busy proxy; beyond it boxes are simply dropped to the GC.</summary>
    private const int PoolCapacity = 1024;
    private static readonly StateMachineBox<TStateMachine, TResult>?[] s_pool = new StateMachineBox<TStateMachine, TResult>?[PoolCapacity];
    private static int s_count;
    private static readonly Lock s_lock = new();
    /// <summary>This box type's shelf in each thread's <see cref="BoxShelves"/> (or -1: none left).</summary>
    private static readonly int s_shelf = BoxShelves.AssignShelf();

    public TStateMachine StateMachine = default!;
    public readonly Action MoveNextAction;

    private StateMachineBox() => MoveNextAction = MoveNext;

    public static StateMachineBox<TStateMachine, TResult> Rent()
    {
        // The calling thread's shelf first: an event loop rents and returns most boxes itself, without a lock.
        if (BoxShelves.TryTake(s_shelf) is { } mine) return Unsafe.As<StateMachineBox<TStateMachine, TResult>>(mine);
        lock (s_lock)
        {
            if (s_count > 0)
            {
                var box = s_pool[--s_count]!;
                s_pool[s_count] = null;
                return box;
            }
        }
        return new StateMachineBox<TStateMachine, TResult>();
    }

    private void MoveNext() => StateMachine.MoveNext();

    protected override void Recycle()
    {
        Core.Reset();
        StateMachine = default!;
        if (BoxShelves.TryPut(s_shelf, this)) return;
        lock (s_lock)
        {
            if (s_count < PoolCapacity) s_pool[s_count++] = this;
        }
    }
}

/// <summary>
/// Per-thread shelves of recycled state-machine boxes, one shelf per box type: the shared pool's lock is taken only
/// when a thread's shelf is empty (rent) or full (return). A box rented on one thread and finished on another moves
/// shelves; the shared pool balances the two. Shelves are sized for a loop's burst of concurrent streams.
/// </summary>
internal static class BoxShelves
{
    private const int MaxShelves = 64;
    private const int ShelfCapacity = 32;
    private static int s_assigned;

    [ThreadStatic] private static object?[]? t_boxes;
    [ThreadStatic] private static int[]? t_counts;

    public static int AssignShelf()
    {
        int shelf = Interlocked.Increment(ref s_assigned) - 1;
        return shelf < MaxShelves ? shelf : -1;
    }

    public static object? TryTake(int shelf)
    {
        int[]? counts = t_counts;
        if (counts is null || shelf < 0) return null;
        int n = counts[shelf];
        if (n == 0) return null;
        counts[shelf] = --n;
        ref object? slot = ref t_boxes![shelf * ShelfCapacity + n];
        object? box = slot;
        slot = null;
        return box;
    }

    public static bool TryPut(int shelf, object box)
    {
        if (shelf < 0) return false;
        int[] counts = t_counts ??= Create();
        int n = counts[shelf];
        if (n == ShelfCapacity) return false;
        t_boxes![shelf * ShelfCapacity + n] = box;
        counts[shelf] = n + 1;
        return true;
    }

    private static int[] Create()
    {
        t_boxes = new object?[MaxShelves * ShelfCapacity];
        return new int[MaxShelves];
    }
}
