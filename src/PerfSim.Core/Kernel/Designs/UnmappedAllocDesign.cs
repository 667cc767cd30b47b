using PerfSim.Core.Allocator;

namespace PerfSim.Core.Kernel;

/// <summary><c>unmapped-alloc</c> (ALLOC_UNMAPPED, mm/page_alloc.c proposal): folios come from
/// pageblocks flipped out of the direct map with one flush per 512 pages; no per-folio zap or
/// flush; zeroing through the mermap; freed pages return to the unmapped free lists.</summary>
public sealed record UnmappedAllocDesign() : Design(
    Id: Strategy.UnmappedAlloc,
    Name: "unmapped-alloc",
    Zap: ZapPoint.PageblockFlip,
    PrepareBeforeZap: true,
    Alloc: AllocFlags.Unmapped,
    Zero: ZeroThrough.Mermap,
    DirectMapWrite: false,
    Restore: RestorePoint.PageblockRemap,
    Flush: FlushPolicy.PerPageblock);
