namespace PerfSim.Core.Allocator;

/// <summary>The memory zones of x86-64 (<c>enum zone_type</c>, include/linux/mmzone.h), bounded by
/// physical address: DMA below 16 MiB, DMA32 below 4 GiB, Normal above.</summary>
public enum ZoneType : byte
{
    Dma = 0,
    Dma32 = 1,
    Normal = 2,
}

/// <summary>What an allocation asks for (the parts of gfp flags and alloc flags that the model uses).</summary>
[Flags]
public enum AllocFlags : byte
{
    /// <summary>Unmovable, mapped in the direct map (<c>GFP_KERNEL</c>, <c>GFP_USER</c>, <c>GFP_HIGHUSER</c>
    /// on 64-bit: none of them carries <c>__GFP_MOVABLE</c>).</summary>
    None = 0,

    /// <summary><c>__GFP_MOVABLE</c>: user/anonymous memory, grouped in movable pageblocks.</summary>
    Movable = 1 << 0,

    /// <summary><c>ALLOC_UNMAPPED</c> (Brendan Jackman's series, mm/page_alloc.c; docs/allocator-and-page-cache.md): the pages come
    /// from pageblocks removed from the direct map. Only with unmovable memory, as in the series.</summary>
    Unmapped = 1 << 1,
}

/// <summary>A freetype: the migratetype plus the "unmapped" flag bit (include/linux/freetype.h in
/// the ALLOC_UNMAPPED series). It indexes the buddy free lists and the per-CPU list banks.</summary>
/// <remarks>Simplified: the kernel has MIGRATE_UNMOVABLE, MOVABLE, RECLAIMABLE, HIGHATOMIC, CMA and
/// ISOLATE; the model keeps unmovable and movable, which is what decides how unmovable pages (page
/// tables, secretmem and guest_memfd folios) group into pageblocks. As in the series, the unmapped
/// flag exists only together with unmovable.</remarks>
public enum FreeType : byte
{
    Unmovable = 0,
    Movable = 1,
    UnmappedUnmovable = 2,
}

/// <summary>Which allocations an injected failure applies to.</summary>
[Flags]
public enum AllocationKinds : byte
{
    None = 0,

    /// <summary>Ordinary allocations of mapped memory (any order, movable or not).</summary>
    Mapped = 1 << 0,

    /// <summary><c>ALLOC_UNMAPPED</c> allocations.</summary>
    Unmapped = 1 << 1,

    /// <summary>Page-table pages for the direct map (<see cref="Frames.IPageTableAllocator"/>).</summary>
    PageTable = 1 << 2,

    All = Mapped | Unmapped | PageTable,
}

/// <summary>The shape of one zone after boot, for reports and tests.</summary>
/// <param name="Type">Which zone.</param>
/// <param name="StartPfn">First pfn of the zone span.</param>
/// <param name="EndPfn">One past the last pfn of the zone span.</param>
/// <param name="ManagedPages">RAM pages handed to the buddy allocator at boot (span minus holes and reservations).</param>
/// <param name="PcpBatch">Pages moved per per-CPU list refill or drain.</param>
/// <param name="PcpHigh">Per-CPU list length at which a free drains a batch.</param>
public readonly record struct ZoneInfo(ZoneType Type, long StartPfn, long EndPfn, long ManagedPages, int PcpBatch, int PcpHigh);
