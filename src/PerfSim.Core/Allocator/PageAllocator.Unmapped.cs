namespace PerfSim.Core.Allocator;

/// <summary>ALLOC_UNMAPPED (mm/page_alloc.c, Brendan Jackman's series; docs/allocator-and-page-cache.md): pageblocks move between the mapped and the
/// unmapped freetype whole, so that one ranged TLB flush is amortised over 512 pages.</summary>
public sealed partial class PageAllocator
{
    /// <summary>
    /// The unmapped lists of this zone are empty: take one free pageblock of mapped unmovable memory
    /// (with the usual migratetype fallback), remove it from the direct map
    /// (<c>set_direct_map_valid_noflush(page, 512, false)</c>), flush its range once
    /// (<c>flush_tlb_kernel_range</c>), then set the pageblock's unmapped flag and free it onto the
    /// unmapped lists. The block is off every list while the hooks run, and no zone lock is held.
    /// </summary>
    private bool TryFlipPageblockToUnmapped(int cpu, Zone zone)
    {
        IPageblockMapper mapper = _mapper ?? throw new InvalidOperationException("ALLOC_UNMAPPED needs an IPageblockMapper (the direct map)");
        long block;
        lock (zone.Lock)
        {
            if (!RmqueueLocked(cpu, zone, PageblockOrder, FreeType.Unmovable, out block))
            {
                return false;
            }
        }

        if (mapper.Unmap(cpu, block, PageblockPages) != 0)
        {
            // Nothing changed (IPageblockMapper's failure contract): the block goes back as it was.
            lock (zone.Lock)
            {
                FreeOneBlockLocked(zone, block, PageblockOrder, FreeTypeOfPageblock(block), toTail: false);
            }

            return false;
        }

        // Flush before any page of the block can be handed out: no CPU may keep a translation of it.
        mapper.FlushRange(cpu, block, PageblockPages);
        lock (zone.Lock)
        {
            SetPageblockType(block, PageblockOrder, FreeType.UnmappedUnmovable);
            FreeOneBlockLocked(zone, block, PageblockOrder, FreeType.UnmappedUnmovable, toTail: false);
        }

        _counters.GetOrAdd(cpu).PageblockFlips++;
        return true;
    }

    /// <summary>
    /// A mapped allocation found no mapped memory in this zone: take a wholly free unmapped
    /// pageblock, put it back in the direct map (<c>set_direct_map_valid_noflush(page, 512, true)</c>;
    /// non-present to present needs no flush), and free it onto the mapped lists of the requested
    /// migratetype. Partly used unmapped pageblocks cannot be re-mapped: their allocated pages must
    /// stay out of the direct map.
    /// </summary>
    private bool TryRemapUnmappedPageblock(int cpu, Zone zone, FreeType type)
    {
        if (_mapper is null)
        {
            return false;
        }

        long block;
        lock (zone.Lock)
        {
            if (!RmqueueSmallestLocked(zone, PageblockOrder, FreeType.UnmappedUnmovable, out block))
            {
                return false;
            }
        }

        if (_mapper.Remap(cpu, block, PageblockPages) != 0)
        {
            lock (zone.Lock)
            {
                FreeOneBlockLocked(zone, block, PageblockOrder, FreeType.UnmappedUnmovable, toTail: false);
            }

            return false;
        }

        lock (zone.Lock)
        {
            SetPageblockType(block, PageblockOrder, type);
            FreeOneBlockLocked(zone, block, PageblockOrder, type, toTail: false);
        }

        _counters.GetOrAdd(cpu).PageblockRemaps++;
        return true;
    }
}
