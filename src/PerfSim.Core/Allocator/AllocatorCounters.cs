using System.Runtime.InteropServices;
using PerfSim.Core.Memory;

namespace PerfSim.Core.Allocator;

/// <summary>Event counts of the page allocator, summed over CPUs when asked for.</summary>
/// <param name="Allocations">Successful allocation calls (any order).</param>
/// <param name="PagesAllocated">4 KiB pages handed out.</param>
/// <param name="Frees">Free calls.</param>
/// <param name="PagesFreed">4 KiB pages returned.</param>
/// <param name="PageTableAllocations">Page-table pages handed to the direct map.</param>
/// <param name="PcpRefills">Per-CPU list refills from the buddy lists (<c>rmqueue_bulk</c>).</param>
/// <param name="PcpDrains">Per-CPU list drains to the buddy lists (<c>free_pcppages_bulk</c>).</param>
/// <param name="PageblockFlips">Pageblocks unmapped for ALLOC_UNMAPPED (one ranged flush each).</param>
/// <param name="PageblockRemaps">Unmapped pageblocks re-mapped for a mapped allocation.</param>
/// <param name="ZoneFallbacks">Allocations served by a lower zone than the preferred one.</param>
/// <param name="MigratetypeFallbacks">Blocks claimed or stolen from the other migratetype.</param>
/// <param name="FailedAllocations">Allocations that returned no page (injected ones included).</param>
/// <param name="InjectedFailures">Failures caused by fault injection.</param>
public readonly record struct AllocatorCounters(
    long Allocations,
    long PagesAllocated,
    long Frees,
    long PagesFreed,
    long PageTableAllocations,
    long PcpRefills,
    long PcpDrains,
    long PageblockFlips,
    long PageblockRemaps,
    long ZoneFallbacks,
    long MigratetypeFallbacks,
    long FailedAllocations,
    long InjectedFailures);

/// <summary>One CPU's counters, padded to a cache line so CPUs never write the same line.</summary>
[StructLayout(LayoutKind.Sequential, Size = NativeArena.CacheLine)]
internal struct CpuAllocatorCounters
{
    public long Allocations;
    public long PagesAllocated;
    public long Frees;
    public long PagesFreed;
    public long PageTableAllocations;
    public long PcpRefills;
    public long PcpDrains;
    public long PageblockFlips;
    public long PageblockRemaps;
    public long ZoneFallbacks;
    public long MigratetypeFallbacks;
    public long FailedAllocations;
    public long InjectedFailures;

    /// <summary>Refills served by a staged batch (<see cref="PageAllocator.DrawStagedBatches"/>), among <see cref="PcpRefills"/>.</summary>
    public long StagedRefills;
}
