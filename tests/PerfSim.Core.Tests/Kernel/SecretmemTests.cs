using PerfSim.Core.Arch;
using PerfSim.Core.Flush;
using PerfSim.Core.Frames;
using PerfSim.Core.Kernel;
using PerfSim.Core.PageCache;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>memfd_secret (mm/secretmem.c): every step in its order, with its counters.</summary>
public sealed class SecretmemTests
{
    [Theory]
    [InlineData(4, 64)]
    [InlineData(16, 100)]
    public void Touching_N_pages_costs_N_one_page_flushes_and_N_times_C_minus_1_IPIs_plus_the_splits(int cpus, int pages)
    {
        using SimKernel k = KernelFixture.Create(Strategy.None, cpus);
        Assert.Equal(0, k.SecretmemCreate(k.CreateProcess(), pages, out KernelFile? file));

        for (int i = 0; i < pages; i++)
        {
            Assert.True(k.SecretmemFault(cpu: 0, file!, i).Ok);
        }

        FlushCounters f = k.Flush.TotalCounters();
        KernelCounters c = k.TotalCounters();
        Assert.Equal(pages, f.KernelRangeFlushes);
        Assert.Equal(k.DirectMap.GlobalFlushes, f.FlushAlls);
        Assert.Equal((pages + k.DirectMap.GlobalFlushes) * (cpus - 1), f.IpiCallbacks);
        Assert.Equal(pages, f.Invlpg / cpus);
        Assert.Equal((long)pages, c.DirectMapZaps);
        Assert.Equal(pages, c.ZeroedPages);
        Assert.True(k.DirectMap.Level2Splits >= 1, "4K zaps split the 2M leaves they land in");
        Assert.Equal(0, k.Checker.Total);
        KernelFixture.AssertConserved(k, pages);
    }

    [Fact]
    public void Release_restores_then_zeroes_every_page_and_the_direct_map_stays_split()
    {
        using SimKernel k = KernelFixture.Create(Strategy.None);
        Assert.Equal(0, k.SecretmemCreate(k.CreateProcess(), 32, out KernelFile? file));
        long[] pfns = [.. Enumerable.Range(0, 32).Select(i => k.SecretmemFault(1, file!, i).Pfn)];
        Assert.All(pfns, p => Assert.False(k.DirectMap.IsPresent(p)));
        DirectMapCounts split = k.DirectMap.Counts;
        long accessesBefore = k.TotalCounters().DirectMapAccesses;

        Assert.Equal(32, k.SecretmemRelease(2, file!));

        Assert.All(pfns, p => Assert.True(k.DirectMap.IsPresent(p)));
        Assert.All(pfns, p => Assert.Equal(FrameOwner.Free, k.Frames[p].Owner));
        Assert.Equal(32, k.TotalCounters().DirectMapRestores);
        Assert.Equal(32, k.TotalCounters().DirectMapAccesses - accessesBefore);
        Assert.Equal(split, k.DirectMap.Counts);
        Assert.Equal(0, k.Checker.Total);
        KernelFixture.AssertConserved(k, 0);
    }

    [Fact]
    public void A_lost_insert_restores_without_a_flush_frees_its_page_and_retries()
    {
        using SimKernel k = KernelFixture.Create(Strategy.None);
        Assert.Equal(0, k.SecretmemCreate(k.CreateProcess(), 8, out KernelFile? file));
        long rival = -1;
        k.TestHookBeforeInsert = (f, index) =>
        {
            k.TestHookBeforeInsert = null;
            Assert.True(k.Allocator.TryAllocatePages(3, 0, PerfSim.Core.Allocator.AllocFlags.None, out rival));
            Assert.Equal(AddResult.Added, k.PageCache.FilemapAddFolio(f.Mapping, index, rival, 0));
        };

        PathResult r = k.SecretmemFault(0, file!, 5);

        Assert.True(r.Ok);
        Assert.Equal(rival, r.Pfn);
        KernelCounters c = k.TotalCounters();
        Assert.Equal((1L, 1L, 1L), (c.EexistRetries, c.DirectMapZaps, c.DirectMapRestores));
        Assert.Equal(0, k.Flush.TotalCounters().KernelRangeFlushes);
        Assert.Equal(0, k.Checker.Total);
    }

    [Fact]
    public void Without_can_set_direct_map_memfd_secret_is_ENOSYS()
    {
        using SimKernel k = KernelFixture.Create(Strategy.None, arch: ArchKind.Arm64, directMap: DirectMapProfile.Arm64 with { CanSetDirectMap = false });

        Assert.Equal(Errno.ENOSYS, k.SecretmemCreate(k.CreateProcess(), 8, out KernelFile? file));
        Assert.Null(file);
    }

    [Fact]
    public void On_arm64_PTE_only_nothing_splits_and_the_flush_is_a_broadcast_TLBI_without_IPIs()
    {
        using SimKernel k = KernelFixture.Create(Strategy.None, cpus: 8, ramBytes: 2 * PageGeometry.GiB, arch: ArchKind.Arm64);
        Assert.Equal(0, k.SecretmemCreate(k.CreateProcess(), 16, out KernelFile? file));

        for (int i = 0; i < 16; i++)
        {
            k.SecretmemFault(0, file!, i);
        }

        FlushCounters f = k.Flush.TotalCounters();
        Assert.Equal((16L, 0L), (f.KernelRangeFlushes, f.IpiCallbacks));
        Assert.Equal(16, f.TlbiOps);
        Assert.Equal(0, k.DirectMap.Level2Splits + k.DirectMap.Level3Splits);
    }
}
