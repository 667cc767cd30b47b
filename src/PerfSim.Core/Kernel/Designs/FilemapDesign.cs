using PerfSim.Core.Allocator;

namespace PerfSim.Core.Kernel;

/// <summary><c>filemap</c> (the v13 plan): the zap moves into <c>filemap_add_folio()</c>
/// (mm/filemap.c), so a folio is zeroed before insertion and never reachable through the direct
/// map while cached; restore in <c>filemap_remove_folio()</c>, and on a lost insert (-EEXIST).</summary>
public sealed record FilemapDesign() : Design(
    Id: Strategy.Filemap,
    Name: "filemap",
    Zap: ZapPoint.PageCacheInsert,
    PrepareBeforeZap: true,
    Alloc: AllocFlags.None,
    Zero: ZeroThrough.DirectMap,
    DirectMapWrite: false,
    Restore: RestorePoint.PageCacheRemoval,
    Flush: FlushPolicy.PerZap);
