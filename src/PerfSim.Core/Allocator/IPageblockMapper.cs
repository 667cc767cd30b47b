namespace PerfSim.Core.Allocator;

/// <summary>
/// How the allocator changes the direct map when it moves a pageblock between the mapped and the
/// unmapped freetype (ALLOC_UNMAPPED, mm/page_alloc.c; docs/allocator-and-page-cache.md). The direct map model implements it.
/// </summary>
/// <remarks>
/// <para>The allocator calls these methods without holding any zone lock: the direct-map update may
/// split a 1 GiB leaf and take a page-table page from this allocator (through
/// <see cref="Frames.IPageTableAllocator"/>), which would otherwise deadlock on <c>zone-&gt;lock</c>.</para>
/// <para>Failure contract: <see cref="Unmap"/> and <see cref="Remap"/> return 0 or a negative errno
/// (<c>-ENOMEM</c>). On failure the range must be unchanged (true for one 2 MiB-aligned pageblock:
/// the only step that can fail, a 1 GiB split, comes before any entry is written); the allocator
/// then gives the block back to the list it came from.</para>
/// </remarks>
public interface IPageblockMapper
{
    /// <summary><c>set_direct_map_valid_noflush(page, nr, false)</c> over the pageblock; no flush.</summary>
    int Unmap(int cpu, long startPfn, long pages);

    /// <summary><c>flush_tlb_kernel_range()</c> over the pageblock just unmapped: one ranged flush per
    /// pageblock flip, amortised over its 512 pages.</summary>
    void FlushRange(int cpu, long startPfn, long pages);

    /// <summary><c>set_direct_map_valid_noflush(page, nr, true)</c>: non-present to present needs no flush.</summary>
    int Remap(int cpu, long startPfn, long pages);
}

/// <summary>
/// The free-path checker for the rule "a frame returned to the free pool while its direct-map
/// entry is invalid is a latent crash" (docs/kernel-paths.md, invariants). The direct map model implements it.
/// </summary>
/// <remarks>Called once per <see cref="PageAllocator.FreePages"/> call, before the frames become
/// free (so before they reach a per-CPU list or the buddy lists, and therefore before any drain can
/// hand them to another CPU). The frames still carry their owner and flags (for instance
/// <see cref="Frames.FrameFlags.NoDirectMap"/>) while it runs; no zone lock is held.</remarks>
public interface IFreeCheck
{
    /// <summary>2^<paramref name="order"/> frames from <paramref name="pfn"/> are being freed;
    /// <paramref name="toUnmappedList"/> is true when they return to the unmapped freetype, where an
    /// invalid direct-map entry is the expected state.</summary>
    void OnFree(int cpu, long pfn, int order, bool toUnmappedList);
}
