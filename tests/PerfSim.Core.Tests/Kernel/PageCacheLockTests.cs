using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Host;
using PerfSim.Core.Kernel;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>The scope of <c>filemap_add_folio()</c>'s locks (mm/filemap.c, mm/swap.c): only the
/// xarray store under the mapping's <c>i_pages</c> lock; the memcg charge before it and the LRU add
/// after it, the LRU add batched per CPU and the lruvec's <c>lru_lock</c> taken once per batch.</summary>
public sealed class PageCacheLockTests
{
    internal static SimKernel Create(CostProfile costs, Strategy strategy = Strategy.None, int cpus = 4, int folioOrder = 0) => new(new KernelOptions
    {
        Cpus = cpus,
        Arch = ArchProfile.For(ArchKind.X86_64),
        Costs = costs,
        DirectMap = Architectures.Of(ArchKind.X86_64).DirectMap(gbPages: true, rodataFull: true),
        Layout = MemoryLayout.FromSize(8 * PageGeometry.GiB),
        Strategy = strategy,
        GuestFolioOrder = folioOrder,
    });

    /// <summary>Two CPUs fault the same file at the same simulated time: the second waits for the
    /// first's xarray store only (plus the hand-off), however long the memcg charge and the LRU add
    /// take. mm/filemap.c: <c>mem_cgroup_charge</c> runs before <c>__filemap_add_folio</c>'s
    /// <c>xas_lock_irq</c>, <c>folio_add_lru</c> after its unlock.</summary>
    [Theory]
    [InlineData(0, 0)]
    [InlineData(10_000, 0)]
    [InlineData(0, 10_000)]
    public void A_second_inserter_waits_for_the_xarray_store_only(long memcgNs, long lruNs)
    {
        CostProfile costs = CostProfile.Default(ArchKind.X86_64) with { MemcgChargeNs = memcgNs, LruAddNs = lruNs };
        using SimKernel k = Create(costs);
        KernelFile f = KernelFixture.Gmem(k, 64);

        PathResult first = k.GmemGetPfn(0, f, 0);
        PathResult second = k.GmemGetPfn(1, f, 1);

        Assert.True(first.Ok && second.Ok);
        Assert.Equal(costs.XarrayStoreNs + costs.LockHandoffNs, second.LatencyNs - first.LatencyNs);
        SimLock pages = k.SimulatedLock(SimLockTable.PagesLock(f.Mapping));
        Assert.Equal(2, pages.Acquisitions);
        Assert.Equal(1, pages.Contended);
    }

    /// <summary>The memcg charge and the LRU add are charged to the faulting CPU, outside any lock
    /// while the batch is not full: each adds its price to an uncontended fault exactly.</summary>
    [Fact]
    public void Memcg_charge_and_lru_add_are_charged_to_the_fault()
    {
        CostProfile costs = CostProfile.Default(ArchKind.X86_64);
        long Latency(CostProfile c)
        {
            using SimKernel k = Create(c);
            KernelFile f = KernelFixture.Gmem(k, 64);
            return k.GmemGetPfn(0, f, 0).LatencyNs;
        }

        long baseline = Latency(costs);
        Assert.Equal(baseline + 1000, Latency(costs with { MemcgChargeNs = costs.MemcgChargeNs + 1000 }));
        Assert.Equal(baseline + 1000, Latency(costs with { XarrayStoreNs = costs.XarrayStoreNs + 1000 }));
        Assert.Equal(baseline, Latency(costs with { LruAddNs = costs.LruAddNs + 1000 })); // first folio: queued, not yet moved
    }

    /// <summary>mm/swap.c <c>folio_add_lru</c>: the per-CPU batch of PAGEVEC_SIZE (31) folios is moved
    /// under the lruvec lock when it fills, holding it for every folio in it; the fault that fills
    /// it pays the move.</summary>
    [Fact]
    public void The_lru_lock_is_taken_once_per_full_batch_and_held_for_each_folio()
    {
        CostProfile costs = CostProfile.Default(ArchKind.X86_64);
        using SimKernel k = Create(costs);
        KernelFile f = KernelFixture.Gmem(k, 4 * LruAddBatch.Size);
        var latencies = new long[3 * LruAddBatch.Size];
        for (int i = 0; i < latencies.Length; i++)
        {
            latencies[i] = k.GmemGetPfn(0, f, i).LatencyNs;
        }

        SimLock lru = k.SimulatedLock(SimLockTable.LruLock(f.Process.Id));
        Assert.Equal(3, lru.Acquisitions);
        Assert.Equal(latencies.Length, k.SimulatedLock(SimLockTable.PagesLock(f.Mapping)).Acquisitions);
        int last = LruAddBatch.Size - 1;
        Assert.Equal(LruAddBatch.Size * costs.LruAddNs, latencies[last] - latencies[last - 1]);
    }

    /// <summary>A large folio moves the batch at once (mm/swap.c: <c>folio_test_large</c>), and each
    /// process (a VMM in its own memory cgroup) has its own lruvec lock.</summary>
    [Fact]
    public void Large_folios_move_at_once_and_each_process_has_its_own_lru_lock()
    {
        using SimKernel k = Create(CostProfile.Default(ArchKind.X86_64), folioOrder: 9);
        KernelFile a = KernelFixture.Gmem(k, 4 * 512);
        KernelFile b = KernelFixture.Gmem(k, 4 * 512);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(k.GmemGetPfn(0, a, i * 512).Ok);
        }

        Assert.True(k.GmemGetPfn(1, b, 0).Ok);

        Assert.Equal(4, k.SimulatedLock(SimLockTable.LruLock(a.Process.Id)).Acquisitions);
        Assert.Equal(1, k.SimulatedLock(SimLockTable.LruLock(b.Process.Id)).Acquisitions);
        Assert.NotEqual(SimLockTable.LruLock(a.Process.Id), SimLockTable.LruLock(b.Process.Id));
        Assert.NotEqual(SimLockTable.PagesLock(a.Mapping), SimLockTable.LruLock(a.Process.Id));
    }
}
