using PerfSim.Core.Invariants;
using PerfSim.Core.Kernel;
using PerfSim.Core.Tests.Kernel;

namespace PerfSim.Core.Tests.Mermap;

/// <summary>The mermap's flush before free reaches only the CPUs that may hold its non-global PTEs.</summary>
public sealed class MermapFlushScopeTests
{
    // mm/mermap.c: the caller must flush the region before freeing pages mapped there; the region
    // is in the mm-local region (non-global PTEs, arch_mermap_pgprot_allowed refuses _PAGE_GLOBAL),
    // so the flush is per mm and leaves the global direct-map entries of other CPUs alone.
    [Fact]
    public void Freeing_a_page_one_cpu_mapped_flushes_its_slice_only_and_keeps_other_cpus_direct_map_entries()
    {
        using SimKernel k = KernelFixture.Create(Strategy.Filemap);
        KernelFile f = KernelFixture.Gmem(k, 64);
        const long Elsewhere = 4096;
        Assert.True(k.DirectMap.IsPresent(Elsewhere));
        Assert.True(k.Populate(0, f, 0, PopulationPath.WriteMermap).Ok);
        k.AccessDirectMap(1, Elsewhere, 1, KernelPath.ClearHighpage);
        long flushAlls = k.Flush.TotalCounters().FlushAlls;
        long ipis = k.Flush.TotalCounters().IpiCallbacks;

        k.GmemPunchHole(0, f, 0, 1);

        Assert.True(k.Tlb.Holds(1, Elsewhere));
        Assert.Equal(flushAlls, k.Flush.TotalCounters().FlushAlls);
        Assert.Equal(ipis, k.Flush.TotalCounters().IpiCallbacks);
        Assert.Equal(1, k.TotalCounters().MermapFreeFlushes);
        Assert.Equal(0, k.Checker.Total);
    }

    [Fact]
    public void Every_cpu_whose_slice_mapped_the_mm_is_flushed_before_the_free()
    {
        using SimKernel k = KernelFixture.Create(Strategy.Filemap);
        KernelFile f = KernelFixture.Gmem(k, 64);
        Assert.True(k.Populate(0, f, 0, PopulationPath.WriteMermap).Ok);
        Assert.True(k.Populate(2, f, 1, PopulationPath.WriteMermap).Ok);
        long before = k.Clock(0);

        k.GmemPunchHole(0, f, 0, 2);

        Assert.Equal(0, k.Checker.Count(ViolationKind.MermapStaleFree));
        Assert.False(f.Process.Mermap!.HasUnflushed(2));
        Assert.True(k.Clock(0) - before >= k.Costs.IpiSendNs + k.Costs.IpiDeliveryNs);
    }
}
