using PerfSim.Core.Host;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Tests.PageTables;

/// <summary>arm64 profiles (arch/arm64/mm/pageattr.c, arch/arm64/mm/mmu.c): PTE-only never splits, BBML2 splits only at the
/// range's ends, and without can_set_direct_map() nothing changes.</summary>
public sealed class Arm64Tests
{
    private const long G = PageGeometry.PagesPer1G;
    private const long M = PageGeometry.PagesPer2M;

    [Fact]
    public void PTE_only_map_zaps_without_splitting_and_invalid_does_not_flush()
    {
        using var host = new TestHost(MemoryLayout.FromSize(PageGeometry.GiB), DirectMapProfile.Arm64);
        DirectMap dm = host.DirectMap;

        CpaResult r = dm.SetInvalidNoFlush(0, 777);

        Assert.Equal((0, 0, 1, 0), (r.Error, r.Splits, r.EntryWrites, r.RangeFlushes));
        Assert.False(dm.IsPresent(777));
        Assert.Equal((0L, 0L), (host.Flush.GlobalFlushes, host.Flush.RangeFlushes));
    }

    [Fact]
    public void Valid_false_flushes_the_range_inside_set_memory_valid_but_valid_true_does_not()
    {
        using var host = new TestHost(MemoryLayout.FromSize(PageGeometry.GiB), DirectMapProfile.Arm64);
        DirectMap dm = host.DirectMap;

        CpaResult zap = dm.SetValidNoFlush(0, 1000, 20, valid: false);
        CpaResult restore = dm.SetValidNoFlush(0, 1000, 20, valid: true);

        Assert.Equal((1, 20), (zap.RangeFlushes, zap.EntryWrites));
        Assert.Equal(0, restore.RangeFlushes);
        Assert.Equal((1L, 20L), (host.Flush.RangeFlushes, host.Flush.RangeFlushPages));
        Assert.True(dm.IsPresent(1019));
    }

    [Fact]
    public void Without_can_set_direct_map_the_primitives_succeed_and_change_nothing()
    {
        using var host = new TestHost(MemoryLayout.FromSize(PageGeometry.GiB), DirectMapProfile.Arm64Bbml2 with { CanSetDirectMap = false });
        DirectMap dm = host.DirectMap;
        DirectMapCounts before = dm.Counts;

        CpaResult r = dm.SetInvalidNoFlush(0, 5);
        CpaResult v = dm.SetValidNoFlush(0, 5, 100, valid: false);

        Assert.Equal((0, 0, 0), (r.Error, r.EntryWrites, v.RangeFlushes));
        Assert.True(dm.IsPresent(5));
        Assert.Equal(before, dm.Counts);
    }

    [Fact]
    public void BBML2_splits_a_4K_zap_down_the_ladder_at_both_ends_without_a_flush()
    {
        using var host = new TestHost(MemoryLayout.FromSize(2 * PageGeometry.GiB), DirectMapProfile.Arm64Bbml2);
        DirectMap dm = host.DirectMap;
        long pfn = G + 40 * M + 5;

        CpaResult r = dm.SetInvalidNoFlush(0, pfn);

        // PUD → contiguous PMDs (1 table), break CONT_PMD, PMD → contiguous PTEs (1 table), break CONT_PTE.
        Assert.Equal((1, 1, 2, 0), (r.Splits1G, r.Splits2M, r.ContBreaks, r.GlobalFlushes));
        Assert.Equal(2, dm.PageTablePages);
        Assert.Equal(new DirectMapCounts(512, 511, 1), dm.Counts);
        Assert.False(dm.IsPresent(pfn));
        Assert.True(dm.IsPresent(pfn + 1));
        Assert.Equal(PteFlags.None, dm.Lookup(pfn + 1).Flags & PteFlags.Cont);
        Assert.Equal(PteFlags.Cont, dm.Lookup(pfn + 16).Flags & PteFlags.Cont);
        Assert.Equal(PteFlags.Cont, dm.Lookup(G + 64 * M).Flags & PteFlags.Cont);
        Assert.Equal(0, host.Flush.GlobalFlushes);
    }

    [Fact]
    public void BBML2_a_contiguous_PTE_is_not_a_lone_entry_until_its_group_is_broken()
    {
        using var host = new TestHost(MemoryLayout.FromSize(2 * PageGeometry.GiB), DirectMapProfile.Arm64Bbml2);
        DirectMap dm = host.DirectMap;
        long pfn = G + 40 * M + 5;
        Assert.False(dm.ChangesOnlyItsEntry(pfn)); // inside a PUD section

        dm.SetInvalidNoFlush(0, pfn);

        Assert.True(dm.ChangesOnlyItsEntry(pfn + 1));    // its CONT_PTE group was broken
        Assert.False(dm.ChangesOnlyItsEntry(pfn + 16));  // the next group still has the hint
        Assert.Equal(PageLevel.Level4K, dm.Lookup(pfn + 16).Level);
        Assert.False(dm.ChangesOnlyItsEntry(G + 64 * M)); // a 2M section
    }

    [Fact]
    public void PTE_only_map_has_only_lone_entries()
    {
        using var host = new TestHost(MemoryLayout.FromSize(PageGeometry.GiB), DirectMapProfile.Arm64);
        Assert.True(host.DirectMap.ChangesOnlyItsEntry(777));
        Assert.False(host.DirectMap.ChangesOnlyItsEntry(host.DirectMap.EndPfn));
    }

    [Fact]
    public void BBML2_keeps_blocks_inside_the_range_and_changes_an_aligned_2M_section_whole()
    {
        using var host = new TestHost(MemoryLayout.FromSize(2 * PageGeometry.GiB), DirectMapProfile.Arm64Bbml2);
        DirectMap dm = host.DirectMap;

        CpaResult r = dm.SetValidNoFlush(0, G + 3 * M, 2 * M, valid: false);

        Assert.Equal((1, 0, 1, 2), (r.Splits1G, r.Splits2M, r.ContBreaks, r.EntryWrites));
        Assert.Equal(1, r.RangeFlushes);
        Assert.Equal(new DirectMapEntry(PageLevel.Level2M, PteFlags.Leaf | (DirectMap.PageKernel & ~PteFlags.Present)), dm.Lookup(G + 4 * M + 9));
    }

    [Fact]
    public void BBML2_split_that_cannot_get_a_table_fails_with_ENOMEM_and_changes_nothing()
    {
        using var host = new TestHost(MemoryLayout.FromSize(2 * PageGeometry.GiB), DirectMapProfile.Arm64Bbml2);
        host.PageTables.FailNext(1);

        CpaResult r = host.DirectMap.SetInvalidNoFlush(0, PageGeometry.PagesPer1G + 3);

        Assert.Equal(Errno.ENOMEM, r.Error);
        Assert.True(host.DirectMap.IsPresent(PageGeometry.PagesPer1G + 3));
        Assert.Equal(new DirectMapCounts(0, 0, 2), host.DirectMap.Counts);
    }
}
