namespace PerfSim.Core.Timeline;

/// <summary>
/// The simulated locks by id: <c>cpa_lock</c>, <c>pgtable_split_lock</c>, the broadcast-invalidation
/// channel, then each mapping's
/// <c>i_pages</c> lock interleaved with each process's lruvec <c>lru_lock</c>. A logged acquisition names its lock by id (no reference, so no GC write
/// barrier per entry), and the weave, which applies acquisitions beside the next round, touches
/// no line a round reads. Not synchronised: acquisitions are applied on one thread at a time.
/// </summary>
public sealed class SimLockTable
{
    /// <summary><c>cpa_lock</c> (arch/x86/mm/pat/set_memory.c): every <c>__change_page_attr()</c> round.</summary>
    public const int CpaLock = 0;

    /// <summary><c>pgtable_split_lock</c> (arch/arm64/mm/mmu.c): arm64 direct-map splits.</summary>
    public const int SplitLock = 1;

    /// <summary>The broadcast-invalidation channel (arm64 DVM messages, x86 INVLPGB): a FIFO that
    /// every CPU's broadcast TLB invalidations pass through; a DSB / TLBSYNC waits for what is ahead.</summary>
    public const int TlbBroadcast = 2;

    private const int FirstPagesLock = 3;

    private SimLock[] _locks = new SimLock[FirstPagesLock + 16];

    /// <summary>The lock with id <paramref name="id"/>.</summary>
    public ref SimLock this[int id] => ref _locks[id];

    /// <summary>Whether lock <paramref name="id"/> is taken with interrupts on (<c>spin_lock</c>:
    /// <c>cpa_lock</c>, <c>pgtable_split_lock</c>), so an interrupt lengthens the hold; an
    /// <c>i_pages</c> lock is taken by <c>xas_lock_irq</c> (mm/filemap.c), so the interrupt waits.</summary>
    public static bool TakenWithIrqsOn(int id) => id is CpaLock or SplitLock;

    /// <summary>The id of mapping <paramref name="mapping"/>'s <c>i_pages</c> lock.</summary>
    public static int PagesLock(ushort mapping) => FirstPagesLock + (2 * mapping);

    /// <summary>The id of process <paramref name="process"/>'s lruvec <c>lru_lock</c> (mm/swap.c:
    /// <c>folio_batch_move_lru</c>): one lruvec per VMM, each in its own memory cgroup, one node.</summary>
    public static int LruLock(int process) => FirstPagesLock + (2 * process) + 1;

    /// <summary>A new file's <c>i_pages</c> lock, free (its mapping id may have served a closed file).</summary>
    public void ResetPagesLock(ushort mapping) => Reset(PagesLock(mapping));

    /// <summary>A new process's <c>lru_lock</c>, free.</summary>
    public void ResetLruLock(int process) => Reset(LruLock(process));

    private void Reset(int id)
    {
        if (id >= _locks.Length)
        {
            Array.Resize(ref _locks, Math.Max(id + 1, _locks.Length * 2));
        }

        _locks[id] = default;
    }
}
