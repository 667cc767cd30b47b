using PerfSim.Core.Allocator;
using PerfSim.Core.Frames;
using PerfSim.Core.Host;

namespace PerfSim.Core.Tests.Allocator;

/// <summary>ALLOC_UNMAPPED: pageblock flips, unmapped free lists, re-map on fallback (mm/page_alloc.c, ALLOC_UNMAPPED series).</summary>
public sealed class AllocUnmappedTests
{
    private const int PagesPerBlock = (int)PageAllocator.PageblockPages;

    [Fact]
    public void PageblockFlags_CostAChunkOnlyWhereAPageblockLeftMovable()
    {
        using var host = new AllocatorHost(MemoryLayout.FromSize(8 * PageGeometry.GiB), new AllocatorOptions { CpuCount = 1, ReservedLowBytes = 0, KernelImageBytes = 0 });
        Assert.Equal(0, host.Allocator.PageblockChunks); // every pageblock movable at boot: nothing stored
        Assert.True(host.Allocator.TryAllocatePages(0, 0, AllocFlags.Movable, out long movable));
        Assert.Equal(0, host.Allocator.PageblockChunks);
        Assert.False(host.Allocator.IsPageblockUnmapped(movable));

        Assert.True(host.Allocator.TryAllocatePages(0, 0, AllocFlags.Unmapped, out long unmapped));
        Assert.Equal(1, host.Allocator.PageblockChunks); // 2 GiB of pageblocks, 4 chunks on this host
        Assert.True(host.Allocator.IsPageblockUnmapped(unmapped));
        Assert.False(host.Allocator.IsPageblockUnmapped(movable));
        Assert.False(host.Allocator.IsPageblockUnmapped(unmapped ^ PageAllocator.PageblockPages));
        host.AssertInvariants("after one unmapped pageblock");
    }

    [Fact]
    public void EveryPageblockOfUnmappedAllocations_CostsOneFlipAndOneRangedFlush()
    {
        using var host = AllocatorHost.Small();
        var pfns = new List<long>();
        for (int i = 0; i < (2 * PagesPerBlock) + 1; i++)
        {
            Assert.True(host.Allocator.TryAllocatePages(0, 0, AllocFlags.Unmapped, out long pfn));
            pfns.Add(pfn);
            int expectedFlips = (i / PagesPerBlock) + 1;
            Assert.True(host.Allocator.GetCounters().PageblockFlips == expectedFlips, $"allocation {i}: flips");
        }

        Assert.Equal(3, host.DirectMap.Count("Unmap"));
        Assert.Equal(3, host.DirectMap.Count("Flush"));
        Assert.Equal(0, host.DirectMap.Count("Remap"));
        for (int flip = 0; flip < 3; flip++)
        {
            (string op, _, long start, long pages) = host.DirectMap.Calls[2 * flip];
            (string nextOp, _, long flushStart, long flushPages) = host.DirectMap.Calls[(2 * flip) + 1];
            Assert.Equal(("Unmap", "Flush"), (op, nextOp));
            Assert.Equal((start, PagesPerBlock), (flushStart, flushPages));
            Assert.Equal(PageAllocator.PageblockPages, pages);
            Assert.Equal(0, start % PagesPerBlock);
        }

        Assert.All(pfns, pfn => Assert.True(host.DirectMap.IsUnmapped(pfn) && host.Allocator.IsPageblockUnmapped(pfn)));
        Assert.Equal(PagesPerBlock, pfns.Take(PagesPerBlock).Select(p => p >> PageAllocator.PageblockOrder).Distinct().Count() * PagesPerBlock);
        host.AssertInvariants("after flips");
    }

    [Fact]
    public void FreedUnmappedPages_StayUnmapped_AndAreReusedWithoutAnotherFlip()
    {
        using var host = AllocatorHost.Small();
        var pfns = new List<long>();
        for (int i = 0; i < 700; i++)
        {
            Assert.True(host.Allocator.TryAllocatePages(0, 0, AllocFlags.Unmapped, out long pfn));
            pfns.Add(pfn);
        }

        foreach (long pfn in pfns)
        {
            host.Allocator.FreePages(0, pfn, 0);
        }

        host.Allocator.DrainLocalPages(0);
        Assert.All(host.DirectMap.Frees, f => Assert.True(f.ToUnmapped, $"pfn {f.Pfn} must return to the unmapped lists"));
        Assert.All(pfns, pfn => Assert.True(host.DirectMap.IsUnmapped(pfn) && host.Allocator.IsPageblockUnmapped(pfn)));
        Assert.Equal(2 * PagesPerBlock, host.Allocator.TestHookBuddyFreePages(FreeType.UnmappedUnmovable));
        host.AssertInvariants("after freeing unmapped pages");

        for (int i = 0; i < 2 * PagesPerBlock; i++)
        {
            Assert.True(host.Allocator.TryAllocatePages(0, 0, AllocFlags.Unmapped, out long pfn));
            Assert.True(host.DirectMap.IsUnmapped(pfn));
        }

        AllocatorCounters counters = host.Allocator.GetCounters();
        Assert.Equal(2, counters.PageblockFlips);
        Assert.Equal(0, counters.PageblockRemaps);
        Assert.Equal(0, host.DirectMap.Count("Remap"));
    }

    [Fact]
    public void MappedAllocation_WithOnlyUnmappedMemoryLeft_RemapsWholeFreePageblocks()
    {
        // The series' kunit test: allocate most memory unmapped, free it, allocate it again mapped:
        // every page must be present again.
        using var host = AllocatorHost.Small();
        var pfns = new List<long>();
        while (host.Allocator.TryAllocatePages(0, 0, AllocFlags.Unmapped, out long pfn))
        {
            pfns.Add(pfn);
        }

        Assert.Equal(16384, pfns.Count);
        Assert.Equal(32, host.Allocator.GetCounters().PageblockFlips);
        foreach (long pfn in pfns)
        {
            host.Allocator.FreePages(0, pfn, 0);
        }

        host.Allocator.DrainLocalPages(0);
        var mapped = new List<long>();
        while (host.Allocator.TryAllocatePages(0, 0, AllocFlags.None, out long pfn))
        {
            Assert.False(host.DirectMap.IsUnmapped(pfn), $"pfn {pfn} handed out mapped while out of the direct map");
            mapped.Add(pfn);
        }

        Assert.Equal(16384, mapped.Count);
        AllocatorCounters counters = host.Allocator.GetCounters();
        Assert.Equal(32, counters.PageblockRemaps);
        Assert.Equal(32, host.DirectMap.Count("Remap"));
        Assert.Equal(32, host.DirectMap.Count("Flush"));
        Assert.Equal(
            Enumerable.Range(0, 32).Select(b => (long)b * PagesPerBlock),
            host.DirectMap.Calls.Where(c => c.Op == "Remap").Select(c => c.Pfn).Order());
        Assert.All(mapped, pfn => Assert.False(host.Allocator.IsPageblockUnmapped(pfn)));
        host.AssertInvariants("after re-mapping everything");
    }

    [Fact]
    public void PartlyUsedUnmappedPageblock_IsNeverRemapped()
    {
        using var host = AllocatorHost.Small();
        var unmapped = new List<long>();
        while (host.Allocator.TryAllocatePages(0, 0, AllocFlags.Unmapped, out long pfn))
        {
            unmapped.Add(pfn);
        }

        // Free all but one page of every pageblock: no block is wholly free.
        foreach (IGrouping<long, long> block in unmapped.GroupBy(p => p >> PageAllocator.PageblockOrder))
        {
            foreach (long pfn in block.Skip(1))
            {
                host.Allocator.FreePages(0, pfn, 0);
            }
        }

        host.Allocator.DrainLocalPages(0);
        Assert.False(host.Allocator.TryAllocatePages(0, 0, AllocFlags.None, out _));
        Assert.Equal(0, host.DirectMap.Count("Remap"));
        host.AssertInvariants("after the refused fallback");
    }

    [Fact]
    public void FailedUnmap_ReturnsTheBlockAndFailsTheAllocation()
    {
        using var host = AllocatorHost.Small();
        host.DirectMap.FailNextUnmaps = 2;

        Assert.False(host.Allocator.TryAllocatePages(0, 0, AllocFlags.Unmapped, out _), "the flips in DMA32 and then DMA both fail");
        Assert.Equal(2, host.DirectMap.Count("Unmap"));
        Assert.Equal(0, host.DirectMap.Count("Flush"));
        host.AssertInvariants("after the failed flip");
        Assert.Equal(16384, host.Count(FrameOwner.Free));
        Assert.Equal(0, host.Allocator.GetCounters().PageblockFlips);
        Assert.True(host.Allocator.TryAllocatePages(0, 0, AllocFlags.Unmapped, out long pfn), "the next attempt flips");
        Assert.True(host.DirectMap.IsUnmapped(pfn));
    }

    [Fact]
    public void Flip_CanTakeAPageTableFromTheAllocator_WhileUnmapping()
    {
        // A 1 GiB split during the flip allocates a page table: the hook runs without zone->lock.
        using var host = AllocatorHost.Small();
        var tables = new List<long>();
        host.DirectMap.DuringUnmap = cpu =>
        {
            Assert.True(host.Allocator.TryAllocatePageTable(cpu, out long table));
            tables.Add(table);
        };

        Assert.True(host.Allocator.TryAllocatePages(0, 0, AllocFlags.Unmapped, out long pfn));

        long table = Assert.Single(tables);
        Assert.Equal(FrameOwner.PageTable, host.Frames[table].Owner);
        Assert.False(host.Allocator.IsPageblockUnmapped(table), "the page table comes from mapped memory");
        Assert.NotEqual(pfn >> PageAllocator.PageblockOrder, table >> PageAllocator.PageblockOrder);
        Assert.Equal(1, host.Allocator.GetCounters().PageTableAllocations);
        host.AssertInvariants("after a flip with a nested page-table allocation");
    }

    [Fact]
    public void Order9UnmappedFolio_IsOneWholeFlippedPageblock()
    {
        using var host = AllocatorHost.Small();
        Assert.True(host.Allocator.TryAllocatePages(0, 9, AllocFlags.Unmapped, out long pfn));

        Assert.Equal(("Unmap", pfn, PageAllocator.PageblockPages), (host.DirectMap.Calls[0].Op, host.DirectMap.Calls[0].Pfn, host.DirectMap.Calls[0].Pages));
        Assert.Equal(1, host.Allocator.GetCounters().PageblockFlips);
        Assert.Throws<ArgumentException>(() => host.Allocator.TryAllocatePages(0, 10, AllocFlags.Unmapped, out _));
        Assert.Throws<ArgumentException>(() => host.Allocator.TryAllocatePages(0, 0, AllocFlags.Unmapped | AllocFlags.Movable, out _));
    }
}
