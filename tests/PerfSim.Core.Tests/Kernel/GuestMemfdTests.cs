using PerfSim.Core.Allocator;
using PerfSim.Core.Flush;
using PerfSim.Core.Frames;
using PerfSim.Core.Invariants;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>guest_memfd NO_DIRECT_MAP designs (virt/kvm/guest_memfd.c; Kernel/Designs/): when each zaps, flushes and
/// restores, and that none of them ever frees a zapped frame.</summary>
public sealed class GuestMemfdTests
{
    private const int Pages = 200;

    [Theory]
    [InlineData(Strategy.PerFolio)]
    [InlineData(Strategy.PerFolioV12)]
    public void Per_folio_zaps_and_flushes_once_per_folio_at_first_mapping_and_restores_in_free_folio(Strategy strategy)
    {
        using SimKernel k = KernelFixture.Create(strategy, cpus: 4);
        KernelFile f = KernelFixture.Gmem(k, Pages);

        for (int i = 0; i < Pages; i++)
        {
            Assert.True(k.GmemGetPfn(i % 4, f, i).Ok);
        }

        long pfn = k.GmemGetPfn(0, f, 7).Pfn;
        Assert.Equal(FrameFlags.NoDirectMap, k.Frames[pfn].Flags & FrameFlags.NoDirectMap);
        Assert.False(k.DirectMap.IsPresent(pfn));
        FlushCounters flushes = k.Flush.TotalCounters();
        Assert.Equal((long)Pages, flushes.KernelRangeFlushes);
        Assert.Equal((long)Pages, k.TotalCounters().DirectMapZaps);
        Assert.Equal(Pages + 1, k.TotalCounters().Faults);

        Assert.Equal(Pages, k.GmemPunchHole(1, f, 0, Pages));

        Assert.Equal(Pages, k.TotalCounters().DirectMapRestores);
        Assert.True(k.DirectMap.IsPresent(pfn));
        Assert.Equal(0, k.Checker.Total);
        Assert.Equal((long)Pages, k.Flush.TotalCounters().KernelRangeFlushes);
        KernelFixture.AssertConserved(k, 0);
    }

    [Fact]
    public void Filemap_zaps_at_insertion_and_restores_at_removal_so_faults_flush_nothing_more()
    {
        using SimKernel k = KernelFixture.Create(Strategy.Filemap);
        KernelFile f = KernelFixture.Gmem(k, Pages);

        Assert.Equal(0, k.GmemFallocate(0, f, 0, Pages));
        long flushesAtInsert = k.Flush.TotalCounters().KernelRangeFlushes;
        for (int i = 0; i < Pages; i++)
        {
            Assert.True(k.GmemGetPfn(2, f, i).Ok);
        }

        Assert.Equal((long)Pages, flushesAtInsert);
        Assert.Equal(flushesAtInsert, k.Flush.TotalCounters().KernelRangeFlushes);
        Assert.Equal(Pages, k.TotalCounters().ZeroedPages);
        KernelFixture.AssertConserved(k, Pages);

        k.GmemRelease(3, f);

        Assert.Equal(Pages, k.TotalCounters().DirectMapRestores);
        Assert.Equal(0, k.Checker.Count(ViolationKind.LatentCrash));
        Assert.Equal(0, k.Checker.Total);
        KernelFixture.AssertConserved(k, 0);
    }

    [Fact]
    public void Unmapped_alloc_flips_one_pageblock_with_one_flush_per_512_pages_and_zeroes_through_the_mermap()
    {
        using SimKernel k = KernelFixture.Create(Strategy.UnmappedAlloc, cpus: 2);
        KernelFile f = KernelFixture.Gmem(k, 1024);

        for (int i = 0; i < 1024; i++)
        {
            Assert.True(k.GmemGetPfn(0, f, i).Ok);
        }

        AllocatorCounters a = k.Allocator.GetCounters();
        KernelCounters c = k.TotalCounters();
        Assert.Equal(2, a.PageblockFlips);
        Assert.Equal(2, k.Flush.TotalCounters().KernelRangeFlushes);
        Assert.Equal(0, c.DirectMapZaps);
        Assert.Equal(1024, c.MermapGets);
        Assert.Equal(0, k.DirectMap.Level2Splits);
        Assert.Equal(0, k.Checker.Total);

        k.GmemPunchHole(1, f, 0, 1024);

        Assert.Equal(0, k.TotalCounters().DirectMapRestores);
        Assert.True(k.TotalCounters().MermapFreeFlushes >= 1, "pages a mermap slot mapped are flushed before they are freed");
        Assert.Equal(0, k.Checker.Total);
        KernelFixture.AssertConserved(k, 0);
    }

    [Fact]
    public void The_baseline_keeps_the_direct_map_and_flushes_nothing()
    {
        using SimKernel k = KernelFixture.Create(Strategy.None);
        KernelFile f = KernelFixture.Gmem(k, Pages);

        for (int i = 0; i < Pages; i++)
        {
            k.GmemGetPfn(0, f, i);
        }

        k.GmemRelease(0, f);
        Assert.Equal(0, k.Flush.TotalCounters().KernelRangeFlushes);
        Assert.Equal(0, k.TotalCounters().DirectMapZaps);
        Assert.Equal(Pages, k.TotalCounters().ZeroedPages);
        KernelFixture.AssertConserved(k, 0);
    }

    [Fact]
    public void Huge_folios_zap_a_whole_aligned_2M_leaf_in_place_with_one_full_flush()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolio, folioOrder: 9, directMap: DirectMapProfile.X86 with { GbPages = false });
        KernelFile f = KernelFixture.Gmem(k, 4 * 512);

        for (int i = 0; i < 4 * 512; i += 512)
        {
            Assert.True(k.GmemGetPfn(0, f, i + 3).Ok);
        }

        Assert.Equal(0, k.DirectMap.Level2Splits);
        Assert.Equal(4, k.Flush.TotalCounters().FullFlushes);
        Assert.Equal(0, k.Checker.Total);
    }

    [Theory]
    [InlineData(VmType.Tdx)]
    [InlineData(VmType.Snp)]
    public void No_direct_map_is_refused_for_TDX_and_SNP(VmType vm)
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolioV12);
        Assert.Equal(Errno.EINVAL, k.GmemCreate(k.CreateProcess(), 16, GmemFlags.NoDirectMap, vm, out _));
        Assert.Equal(0, k.GmemCreate(k.CreateProcess(), 16, GmemFlags.None, vm, out _));
    }

    [Fact]
    public void Without_a_strategy_the_flag_is_not_offered()
    {
        using SimKernel k = KernelFixture.Create(Strategy.None);
        Assert.Equal(Errno.EINVAL, k.GmemCreate(k.CreateProcess(), 16, GmemFlags.NoDirectMap, VmType.Default, out _));
        Assert.Equal(Errno.EINVAL, k.GmemCreate(k.CreateProcess(), 16, GmemFlags.InitShared, VmType.Default, out _));
    }
}
