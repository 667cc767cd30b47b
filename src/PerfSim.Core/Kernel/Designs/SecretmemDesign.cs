using PerfSim.Core.Allocator;

namespace PerfSim.Core.Kernel;

/// <summary>memfd_secret(2) (mm/secretmem.c): zeroed through the direct map, then
/// <c>set_direct_map_invalid_noflush</c> before <c>filemap_add_folio</c> and one ranged flush
/// after it; <c>secretmem_free_folio</c> restores. The secretmem paths are its own; the shared
/// folio helpers and the locality test read this record like any design's.</summary>
public sealed record SecretmemDesign() : Design(
    Id: Strategy.None,
    Name: "secretmem",
    Zap: ZapPoint.PageCacheInsert,
    PrepareBeforeZap: true,
    Alloc: AllocFlags.None,
    Zero: ZeroThrough.DirectMap,
    DirectMapWrite: false,
    Restore: RestorePoint.FreeFolio,
    Flush: FlushPolicy.PerZap);
