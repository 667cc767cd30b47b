using System.Runtime.CompilerServices;

namespace PerfSim.Core.PageCache;

/// <summary>
/// The page cache's shard locks (the striped <c>i_pages</c> lock): one owner word per shard, each on
/// its own cache line, taken with one compare-and-swap and released with one store.
/// </summary>
/// <remarks>
/// <para>Why not <see cref="Lock"/>: the critical sections are a few frame and slot writes (at most
/// 512 of each for a 2 MiB folio), and the two out-of-line calls and two atomic operations of
/// <c>lock</c> were about a fifth of the page cache's cost per insert. A waiter spins briefly and then
/// yields (<see cref="SpinWait"/>), so an oversubscribed host does not burn its cores.</para>
/// <para>Not re-entrant: the page cache never calls out while holding a shard lock (the
/// <c>free_folio</c> callback runs after the lock is dropped).</para>
/// </remarks>
internal sealed class ShardLocks
{
    /// <summary>Ints per 64-byte line: every owner word has its line to itself.</summary>
    private const int Stride = 16;

    private readonly int[] _owners;

    public ShardLocks(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Count = count;
        _owners = new int[count * Stride];
    }

    /// <summary>Number of shards.</summary>
    public int Count { get; }

    /// <summary>Takes shard <paramref name="shard"/>'s lock until the scope is disposed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Scope Enter(int shard)
    {
        int me = Environment.CurrentManagedThreadId;
        ref int owner = ref _owners[shard * Stride];
        if (Interlocked.CompareExchange(ref owner, me, 0) != 0)
        {
            EnterContended(ref owner, me);
        }

        return new Scope(this, shard);
    }

    /// <summary>True when the calling thread holds shard <paramref name="shard"/>'s lock.</summary>
    public bool HeldByCurrentThread(int shard) => Volatile.Read(ref _owners[shard * Stride]) == Environment.CurrentManagedThreadId;

    /// <summary>True when the calling thread holds any shard lock.</summary>
    public bool HeldByCurrentThread()
    {
        int me = Environment.CurrentManagedThreadId;
        for (int i = 0; i < Count; i++)
        {
            if (Volatile.Read(ref _owners[i * Stride]) == me)
            {
                return true;
            }
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EnterContended(ref int owner, int me)
    {
        var spin = default(SpinWait);
        do
        {
            spin.SpinOnce();
        }
        while (Volatile.Read(ref owner) != 0 || Interlocked.CompareExchange(ref owner, me, 0) != 0);
    }

    /// <summary>A held shard lock; disposing it releases the lock (with release semantics).</summary>
    public readonly ref struct Scope
    {
        private readonly ShardLocks _locks;
        private readonly int _shard;

        internal Scope(ShardLocks locks, int shard)
        {
            _locks = locks;
            _shard = shard;
        }

        public void Dispose() => Volatile.Write(ref _locks._owners[_shard * Stride], 0);
    }
}
