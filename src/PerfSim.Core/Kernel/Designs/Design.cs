using PerfSim.Core.Allocator;

namespace PerfSim.Core.Kernel;

/// <summary>Where a design takes a folio out of the direct map.</summary>
public enum ZapPoint : byte
{
    /// <summary>Never: the direct map keeps the folio.</summary>
    None,

    /// <summary>At the folio's first mapping (a guest fault, a user fault, the first write()),
    /// once per folio, remembered by the folio's <c>KVM_GMEM_FOLIO_NO_DIRECT_MAP</c> bit.</summary>
    FirstMap,

    /// <summary>In <c>filemap_add_folio()</c> (mm/filemap.c): the folio is zeroed, zapped and
    /// flushed before it enters the page cache.</summary>
    PageCacheInsert,

    /// <summary>When the allocator flips a whole pageblock out of the direct map (ALLOC_UNMAPPED):
    /// the folio is never mapped there while allocated.</summary>
    PageblockFlip,
}

/// <summary>How a design's folio is zeroed.</summary>
public enum ZeroThrough : byte
{
    /// <summary><c>clear_highpage()</c> through the direct map (before any zap).</summary>
    DirectMap,

    /// <summary>Through a mermap slot: the folio has no direct-map alias to zero through.</summary>
    Mermap,
}

/// <summary>Where a design puts a zapped folio back into the direct map.</summary>
public enum RestorePoint : byte
{
    /// <summary>Never (nothing was zapped).</summary>
    None,

    /// <summary>In <c>free_folio</c>, if the folio's no-direct-map bit is set.</summary>
    FreeFolio,

    /// <summary>In <c>filemap_remove_folio()</c>: every cached folio was zapped at insertion.</summary>
    PageCacheRemoval,

    /// <summary>Not per folio: the pages return to the unmapped free lists, and a pageblock is
    /// mapped again only when the allocator gives it back (mm/page_alloc.c, ALLOC_UNMAPPED).</summary>
    PageblockRemap,
}

/// <summary>How a design's zaps are flushed from the TLBs.</summary>
public enum FlushPolicy : byte
{
    /// <summary>Nothing to flush.</summary>
    None,

    /// <summary>One <c>flush_tlb_kernel_range()</c> over the folio per zap (x86: an IPI to every
    /// other CPU; arm64 flushes inside <c>set_memory_valid</c>).</summary>
    PerZap,

    /// <summary>One ranged flush per 512-page pageblock flip, none per folio.</summary>
    PerPageblock,
}

/// <summary>
/// One NO_DIRECT_MAP design of guest_memfd (virt/kvm/guest_memfd.c and the series' variants), as
/// data: every kernel path and the engine's locality test read these fields, never the design's
/// name. A new design is one sealed record in this folder (registered in <see cref="Designs.All"/>)
/// plus its tests; docs/architecture.md lists the steps.
/// </summary>
/// <param name="Id">The stable id (the configuration's <see cref="Strategy"/>).</param>
/// <param name="Name">The name users type (<c>--strategy</c>, reports).</param>
/// <param name="Zap">Where the folio leaves the direct map.</param>
/// <param name="PrepareBeforeZap"><c>kvm_arch_gmem_prepare()</c> runs before the zap (v9–v11) or
/// after it (v12); only meaningful with <see cref="ZapPoint.FirstMap"/>.</param>
/// <param name="Alloc">Allocation flags of the design's folios.</param>
/// <param name="Zero">How its folios are zeroed.</param>
/// <param name="DirectMapWrite">Whether write() may copy through the direct map (false where the
/// design keeps cached folios out of it).</param>
/// <param name="Restore">Where a zapped folio is made present again.</param>
/// <param name="Flush">How its zaps are flushed.</param>
public abstract record Design(
    Strategy Id,
    string Name,
    ZapPoint Zap,
    bool PrepareBeforeZap,
    AllocFlags Alloc,
    ZeroThrough Zero,
    bool DirectMapWrite,
    RestorePoint Restore,
    FlushPolicy Flush)
{
    /// <summary>Whether the design removes folios from the direct map at all (NO_DIRECT_MAP is
    /// refused without one).</summary>
    public bool RemovesDirectMap => Zap != ZapPoint.None;

    /// <summary>Whether a first-touch fault must take a zap of its own (at first map or insertion).</summary>
    public bool ZapsPerFolio => Zap is ZapPoint.FirstMap or ZapPoint.PageCacheInsert;

    /// <summary>When the zaps at first map are flushed (<see cref="ZapFlushPolicy.Every"/> unless
    /// the kernel is built with another; only the per-folio designs take one).</summary>
    public ZapFlushPolicy ZapFlush { get; init; } = ZapFlushPolicy.Every;

    /// <summary>Whether the design can take a <see cref="ZapFlush"/> other than every: it zaps per
    /// folio at first map and flushes each zap (the per-folio designs).</summary>
    public bool TakesFlushPolicy => Zap == ZapPoint.FirstMap && Flush == FlushPolicy.PerZap;
}
