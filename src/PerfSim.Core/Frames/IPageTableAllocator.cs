namespace PerfSim.Core.Frames;

/// <summary>
/// Where the direct map gets the page-table page a split needs (<c>pagetable_alloc(GFP_KERNEL, 0)</c>
/// in <c>split_large_page</c>, arch/x86/mm/pat/set_memory.c). The page allocator implements it; a
/// failure makes the CPA call return <c>-ENOMEM</c>.
/// </summary>
public interface IPageTableAllocator
{
    /// <summary>Allocates one 4 KiB frame for a page table, marks it <see cref="FrameOwner.PageTable"/>
    /// in the frame table, and returns its pfn; false when no frame can be had.</summary>
    bool TryAllocatePageTable(int cpu, out long pfn);
}
