namespace PerfSim.Core.Invariants;

/// <summary>The kernel code that touched a frame, so a violation names who did it.</summary>
public enum KernelPath : byte
{
    Unknown = 0,

    /// <summary>A direct-map access from a <c>perfsim directmap</c> script (<c>access PFN</c>).</summary>
    ScriptAccess,

    /// <summary>A frame handed back to the page allocator from a script (<c>free PFN</c>).</summary>
    ScriptFree,

    /// <summary><c>clear_highpage()</c> / <c>__GFP_ZERO</c>: zeroing through the direct map.</summary>
    ClearHighpage,

    /// <summary><c>folio_zero_segment()</c> in <c>secretmem_free_folio()</c>.</summary>
    FolioZeroSegment,

    /// <summary><c>folio_mc_copy()</c>: a migration copy through the direct map.</summary>
    MigrationCopy,

    /// <summary><c>write()</c> into a guest_memfd folio through the direct map.</summary>
    WriteDirectMap,

    /// <summary><c>kvm_gmem_populate()</c> post-populate copy (SNP <c>kmap_local_page</c> + memcpy).</summary>
    GmemPopulate,

    /// <summary>Background kernel load touching the direct map.</summary>
    BackgroundLoad,

    /// <summary><c>__free_pages()</c> / pcp free: a frame returned to the allocator.</summary>
    PageFree,

    /// <summary>A direct-map zap (<c>folio_zap_direct_map</c>, <c>set_direct_map_invalid_noflush</c>).</summary>
    DirectMapZap,
}

/// <summary>Kernel names for <see cref="KernelPath"/>.</summary>
public static class KernelPaths
{
    public static string Describe(this KernelPath path) => path switch
    {
        KernelPath.ScriptAccess => "script access",
        KernelPath.ScriptFree => "script free",
        KernelPath.ClearHighpage => "clear_highpage",
        KernelPath.FolioZeroSegment => "folio_zero_segment (secretmem_free_folio)",
        KernelPath.MigrationCopy => "folio_mc_copy (migration)",
        KernelPath.WriteDirectMap => "write() via the direct map",
        KernelPath.GmemPopulate => "kvm_gmem_populate post_populate",
        KernelPath.BackgroundLoad => "background kernel load",
        KernelPath.PageFree => "__free_pages",
        KernelPath.DirectMapZap => "direct-map zap",
        _ => "unknown",
    };
}
