using PerfSim.Core.Host;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Tests.PageTables;

/// <summary>Exact-state tests for the x86 CPA rules: docs/direct-map.md (F3) and arch/x86/mm/pat/set_memory.c.</summary>
public sealed class X86CpaTests
{
    private const long G = PageGeometry.PagesPer1G;
    private const long M = PageGeometry.PagesPer2M;

    [Fact]
    public void A_4K_zap_inside_a_1G_leaf_splits_twice_with_two_tables_and_two_global_flushes()
    {
        using TestHost host = TestHost.X86(4 * PageGeometry.GiB);
        DirectMap dm = host.DirectMap;
        long pfn = G + 3 * M + 7;
        Assert.Equal(new DirectMapCounts(0, 0, 4), dm.Counts);

        CpaResult r = dm.SetInvalidNoFlush(cpu: 0, pfn);

        Assert.Equal(0, r.Error);
        Assert.Equal((1, 1), (r.Splits1G, r.Splits2M));
        Assert.Equal(2, r.GlobalFlushes);
        Assert.Equal((1, 1, 2, 2), (dm.Level3Splits, dm.Level2Splits, dm.PageTablePages, host.Flush.GlobalFlushes));
        Assert.Equal(new DirectMapCounts(512, 511, 3), dm.Counts);
        Assert.Equal(new DirectMapEntry(PageLevel.Level4K, PteFlags.Leaf | PteFlags.Nx), dm.Lookup(pfn));
        Assert.Equal(new DirectMapEntry(PageLevel.Level4K, PteFlags.Leaf | DirectMap.PageKernel), dm.Lookup(pfn + 1));
        Assert.Equal(PageLevel.Level2M, dm.Lookup(pfn + M).Level);
        Assert.Equal(PageLevel.Level1G, dm.Lookup(0).Level);
        Assert.Equal(2, host.Frames.CountByOwner()[(int)Core.Frames.FrameOwner.PageTable]);
    }

    /// <summary>A region read at once (the final-state scan): its entry when one leaf maps all of it,
    /// nothing when PTEs do, none beyond the map; every page of a region so read looks it up alike.</summary>
    [Fact]
    public void A_2M_region_reads_as_one_entry_only_while_one_leaf_maps_it()
    {
        using TestHost host = TestHost.X86(4 * PageGeometry.GiB);
        DirectMap dm = host.DirectMap;
        dm.SetInvalidNoFlush(cpu: 0, G + 3 * M + 7);
        Assert.Equal(0, dm.SetValidNoFlush(0, G + 5 * M, M, valid: false).Error);

        Assert.True(dm.TryLookupRegion(0, out DirectMapEntry inLeaf1G));
        Assert.Equal(PageLevel.Level1G, inLeaf1G.Level);
        Assert.False(dm.TryLookupRegion(G + 3 * M, out _));
        Assert.True(dm.TryLookupRegion(G + 5 * M, out DirectMapEntry zapped));
        Assert.Equal(new DirectMapEntry(PageLevel.Level2M, dm.Lookup(G + 5 * M).Flags), zapped);
        Assert.False(zapped.IsPresent);
        foreach (long region in new[] { 0, G + 4 * M, G + 5 * M, 3 * G + 511 * M })
        {
            Assert.True(dm.TryLookupRegion(region, out DirectMapEntry entry));
            Assert.All(new[] { 0L, 1, 255, M - 1 }, i => Assert.Equal(entry, dm.Lookup(region + i)));
        }

        Assert.True(dm.TryLookupRegion(dm.EndPfn, out DirectMapEntry beyond));
        Assert.Equal(default, beyond);
        Assert.Throws<ArgumentException>(() => dm.TryLookupRegion(M + 1, out _));
    }

    /// <summary>A map that ends inside a 2 MiB region maps that region with PTEs (its pages past the
    /// end read as no entry), so it is not read at once; the region before it is.</summary>
    [Fact]
    public void A_2M_region_the_map_ends_inside_is_not_read_as_one_entry()
    {
        using TestHost host = TestHost.X86((G + (M / 2)) * PageGeometry.PageSize);
        DirectMap dm = host.DirectMap;
        Assert.Equal(G + M / 2, dm.EndPfn);
        Assert.Equal(PageLevel.Level4K, dm.Lookup(G).Level);
        Assert.NotEqual(dm.Lookup(G), dm.Lookup(G + M - 1));

        Assert.True(dm.TryLookupRegion(G - M, out _));
        Assert.False(dm.TryLookupRegion(G, out _));
    }

    [Fact]
    public void Restore_makes_the_page_present_without_global_or_dirty_and_never_remerges()
    {
        using TestHost host = TestHost.X86(2 * PageGeometry.GiB);
        DirectMap dm = host.DirectMap;
        dm.SetInvalidNoFlush(0, 100);

        CpaResult r = dm.SetDefaultNoFlush(0, 100);

        Assert.Equal((0, 0, 1), (r.Error, r.Splits, r.EntryWrites));
        Assert.Equal(PteFlags.Leaf | PteFlags.Present | PteFlags.Rw | PteFlags.Nx, dm.Lookup(100).Flags);
        Assert.Equal(new DirectMapCounts(512, 511, 1), dm.Counts);
        Assert.Equal(2, dm.PageTablePages);
    }

    [Fact]
    public void An_aligned_2M_zap_of_a_2M_leaf_updates_the_PMD_in_place_without_a_split()
    {
        using TestHost host = TestHost.X86(PageGeometry.GiB, gbPages: false);
        DirectMap dm = host.DirectMap;
        long pfn = 5 * M;

        CpaResult zap = dm.SetValidNoFlush(0, pfn, M, valid: false);
        CpaResult restore = dm.SetValidNoFlush(0, pfn, M, valid: true);

        Assert.Equal((0, 1, 1, 0), (zap.Splits, zap.Preserved, zap.LockRounds, zap.GlobalFlushes));
        Assert.Equal((0, 1), (restore.Splits, restore.Preserved));
        Assert.Equal(new DirectMapCounts(0, 512, 0), dm.Counts);
        Assert.Equal(0, dm.PageTablePages);
        Assert.Equal(new DirectMapEntry(PageLevel.Level2M, PteFlags.Leaf | PteFlags.Present | PteFlags.Rw | PteFlags.Nx), dm.Lookup(pfn + 17));
    }

    [Fact]
    public void A_2M_zap_inside_a_1G_leaf_splits_the_1G_once_then_zaps_one_PMD()
    {
        using TestHost host = TestHost.X86(2 * PageGeometry.GiB);
        DirectMap dm = host.DirectMap;

        CpaResult r = dm.SetValidNoFlush(0, G + 4 * M, M, valid: false);

        Assert.Equal((1, 0, 1, 1), (r.Splits1G, r.Splits2M, r.Preserved, r.GlobalFlushes));
        Assert.Equal(new DirectMapCounts(0, 512, 1), dm.Counts);
        Assert.False(dm.IsPresent(G + 4 * M));
        Assert.False(dm.IsPresent(G + 5 * M - 1));
        Assert.True(dm.IsPresent(G + 5 * M));
    }

    [Fact]
    public void Zapping_a_2M_region_page_by_page_splits_once_and_writes_512_PTEs()
    {
        using TestHost host = TestHost.X86(PageGeometry.GiB, gbPages: false);
        DirectMap dm = host.DirectMap;
        int splits = 0;
        int writes = 0;
        for (long pfn = 3 * M; pfn < 4 * M; pfn++)
        {
            CpaResult r = dm.SetInvalidNoFlush(0, pfn);
            splits += r.Splits;
            writes += r.EntryWrites;
        }

        Assert.Equal((1, 512), (splits, writes));
        Assert.Equal(new DirectMapCounts(512, 511, 0), dm.Counts);
    }

    [Fact]
    public void A_request_that_changes_nothing_keeps_the_large_page_sameprot()
    {
        using TestHost host = TestHost.X86(PageGeometry.GiB, gbPages: false);
        DirectMap dm = host.DirectMap;
        dm.SetValidNoFlush(0, 2 * M, M, valid: false);

        CpaResult r = dm.SetInvalidNoFlush(0, 2 * M + 3);

        Assert.Equal((0, 1, 0), (r.Splits, r.SameProt, r.EntryWrites));
        Assert.Equal(0, dm.Level2Splits);
    }

    [Fact]
    public void Holes_are_silent_successes_and_beyond_max_pfn_is_EFAULT()
    {
        // RAM [0, 1 GiB) and [1 GiB + 8 MiB, 2 GiB): a hole of 8 MiB.
        MemoryLayout layout = MemoryLayout.FromByteRanges([(0, PageGeometry.GiB), (PageGeometry.GiB + 8 * PageGeometry.MiB, 2 * PageGeometry.GiB)]);
        using var host = new TestHost(layout, DirectMapProfile.X86);
        DirectMap dm = host.DirectMap;
        long hole = G + 100;
        DirectMapCounts before = dm.Counts;

        CpaResult inHole = dm.SetValidNoFlush(0, hole, 10, valid: false);
        CpaResult beyond = dm.SetInvalidNoFlush(0, dm.EndPfn);

        Assert.Equal((0, 10L, 0), (inHole.Error, inHole.HolePages, inHole.EntryWrites));
        Assert.Equal(before, dm.Counts);
        Assert.Equal(Errno.EFAULT, beyond.Error);
        Assert.True(dm.Lookup(hole).IsHole);
    }

    [Fact]
    public void A_failed_split_returns_ENOMEM_and_keeps_the_pages_already_changed()
    {
        using TestHost host = TestHost.X86(PageGeometry.GiB, gbPages: false);
        DirectMap dm = host.DirectMap;
        // Region A (2M #1) is already split; region B (2M #2) is still a 2M leaf.
        dm.SetInvalidNoFlush(0, M);
        dm.SetDefaultNoFlush(0, M);
        host.PageTables.FailNext(1);
        long start = 2 * M - 10;

        CpaResult r = dm.SetValidNoFlush(0, start, 20, valid: false);

        Assert.Equal(Errno.ENOMEM, r.Error);
        Assert.Equal(10, r.EntryWrites);
        for (long pfn = start; pfn < 2 * M; pfn++)
        {
            Assert.False(dm.IsPresent(pfn), $"pfn {pfn} changed before the failure stays changed (no rollback)");
        }

        Assert.True(dm.IsPresent(2 * M), "the region whose split failed is untouched");
        Assert.Equal(PageLevel.Level2M, dm.Lookup(2 * M).Level);
        Assert.Equal(1, dm.Level2Splits);
    }

    [Fact]
    public void Splits_conserve_DirectMap_bytes_and_zaps_do_not_change_the_counts()
    {
        using TestHost host = TestHost.X86(3 * PageGeometry.GiB);
        DirectMap dm = host.DirectMap;
        long mapped = dm.Counts.MappedBytes;
        var rng = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            long pfn = rng.NextInt64(dm.EndPfn);
            dm.SetInvalidNoFlush(0, pfn);
            Assert.Equal(mapped, dm.Counts.MappedBytes);
        }

        Assert.Equal(3 * PageGeometry.GiB, mapped);
    }
}
