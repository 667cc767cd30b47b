namespace PerfSim.Core.PageCache;

/// <summary>The <c>address_space</c> flags the model uses (include/linux/pagemap.h: enum mapping_flags). The bit values are
/// the model's own: the kernel's numbers moved between versions (AS_NO_DIRECT_MAP was bit 10, 11
/// and 12 in successive series).</summary>
[Flags]
public enum AddressSpaceFlags : byte
{
    None = 0,

    /// <summary><c>AS_NO_DIRECT_MAP</c>: folios of this mapping are out of the direct map (secretmem,
    /// guest_memfd with NO_DIRECT_MAP).</summary>
    NoDirectMap = 1 << 0,

    /// <summary><c>AS_UNEVICTABLE</c> (<c>mapping_set_unevictable</c>).</summary>
    Unevictable = 1 << 1,

    /// <summary><c>AS_INACCESSIBLE</c> (guest_memfd).</summary>
    Inaccessible = 1 << 2,

    /// <summary><c>AS_UNMOVABLE</c> (guest_memfd of VMs with private memory).</summary>
    Unmovable = 1 << 3,
}

/// <summary>A folio in a page cache: its head pfn, its order and the index of its first page.</summary>
public readonly record struct Folio(long Pfn, int Order, long Index)
{
    /// <summary>4 KiB pages in the folio.</summary>
    public long Pages => 1L << Order;
}

/// <summary>Outcome of <see cref="ShardedPageCache.FilemapAddFolio"/>.</summary>
public enum AddResult : byte
{
    /// <summary>The folio is in the cache.</summary>
    Added = 0,

    /// <summary><c>-EEXIST</c>: another folio covers one of the indices; the caller keeps its folio,
    /// frees it, and looks the index up again (the fault paths' <c>goto retry</c>).</summary>
    Exists = 1,
}

/// <summary>Outcome of <see cref="ShardedPageCache.FilemapRemoveFolio"/>.</summary>
public enum RemoveResult : byte
{
    Removed = 0,
    NotFound = 1,
}

/// <summary>
/// <c>a_ops-&gt;free_folio</c>: called after the folio left the page cache and its mapping was
/// cleared (<c>page_cache_delete</c> sets <c>folio-&gt;mapping = NULL</c>), outside the page-cache
/// lock, and before the page cache's reference is dropped (<c>filemap_free_folio</c>, mm/filemap.c).
/// secretmem restores the direct map here; guest_memfd invalidates and restores.
/// </summary>
public interface IFreeFolioCallback
{
    void FreeFolio(Folio folio);
}

/// <summary>The callbacks of a truncate: <c>free_folio</c>, then the drop of the page cache's
/// reference (<see cref="PutFolio"/>), after which the caller frees the frames to the allocator.</summary>
public interface ITruncateCallbacks : IFreeFolioCallback
{
    void PutFolio(Folio folio);
}
