using PerfSim.Core.Allocator;
using PerfSim.Core.Frames;
using PerfSim.Core.Host;
using PerfSim.Core.Memory;
using PerfSim.Testing;

namespace PerfSim.Core.Tests.Allocator;

public sealed class PageAllocatorTests
{
    private const long NormalStartPfn = (4 * PageGeometry.GiB) >> PageGeometry.PageShift;

    [Fact]
    public void PerCpuListsAndCounters_AreAllocatedAtACpusFirstUse()
    {
        using var host = AllocatorHost.Small(cpus: 64);
        Assert.Equal((0, 0), host.Allocator.PerCpuChunks);

        Assert.True(host.Allocator.TryAllocatePages(5, 0, AllocFlags.None, out long pfn));
        Assert.Equal((1, 1), host.Allocator.PerCpuChunks);
        host.Allocator.FreePages(40, pfn, 0); // freed by another CPU: onto its list
        Assert.Equal((2, 2), host.Allocator.PerCpuChunks);
        Assert.Equal(1, host.Allocator.TestHookPcpCount(40, ZoneType.Dma32, FreeType.Unmovable));

        // Reading counters and checking the lists of every CPU allocates nothing more.
        AllocatorCounters counters = host.Allocator.GetCounters();
        Assert.Equal((1, 1), (counters.Allocations, counters.Frees));
        Assert.Equal(0, host.Allocator.PcpRefillsOf(63));
        Assert.Equal(1, host.Allocator.PcpRefillsOf(5));
        host.AssertInvariants("after one allocation and one free on two of 64 CPUs");
        Assert.Equal((2, 2), host.Allocator.PerCpuChunks);
    }

    [Fact]
    public void Boot_ReservesLowMemoryAndKernelImage_AndFreesTheRestIntoZones()
    {
        var layout = MemoryLayout.FromByteRanges([(0, 64 * PageGeometry.MiB), (4 * PageGeometry.GiB, (4 * PageGeometry.GiB) + (64 * PageGeometry.MiB))]);
        using var host = new AllocatorHost(layout, new AllocatorOptions());

        long reserved = (1 * PageGeometry.MiB / PageGeometry.PageSize) + (16 * PageGeometry.MiB / PageGeometry.PageSize);
        Assert.Equal(reserved, host.Count(FrameOwner.Reserved));
        Assert.Equal(layout.RamPages - reserved, host.Count(FrameOwner.Free));
        Assert.Equal(FrameOwner.Reserved, host.Frames[0].Owner);
        Assert.Equal(FrameOwner.Reserved, host.Frames[(16 * PageGeometry.MiB / PageGeometry.PageSize) + 5].Owner);
        Assert.Equal([ZoneType.Normal, ZoneType.Dma32, ZoneType.Dma], host.Allocator.Zones.Select(z => z.Type));
        Assert.Equal(layout.RamPages - reserved, host.Allocator.Zones.Sum(z => z.ManagedPages));
        host.AssertInvariants("after boot");
    }

    [Theory]
    [InlineData(262_144, 63)] // 1 GiB: min(256, 256) / 4 = 64 → rounddown_pow_of_two(96) - 1
    [InlineData(4_194_304, 63)] // 16 GiB: capped at 1 MiB worth of pages
    [InlineData(65_536, 15)] // 256 MiB: 64 / 4 = 16 → rounddown_pow_of_two(24) - 1
    [InlineData(3_840, 1)] // DMA zone (15 MiB): the kernel shows "batch: 1"
    public void ZoneBatchSize_FollowsTheKernelFormula(long managedPages, int expected) =>
        Assert.Equal(expected, PageAllocator.ZoneBatchSize(managedPages));

    [Fact]
    public void SequentialOrderZeroAllocations_FillPageblocksInOrder()
    {
        var layout = MemoryLayout.FromByteRanges([(0, 64 * PageGeometry.MiB), (4 * PageGeometry.GiB, (4 * PageGeometry.GiB) + (256 * PageGeometry.MiB))]);
        using var host = new AllocatorHost(layout, new AllocatorOptions());
        const int Count = 3000;

        var touched = new SortedSet<long>();
        for (int i = 0; i < Count; i++)
        {
            Assert.True(host.Allocator.TryAllocatePages(0, 0, AllocFlags.None, out long pfn));
            Assert.Equal(NormalStartPfn + i, pfn);
            touched.Add(pfn >> PageAllocator.PageblockOrder);
        }

        long firstBlock = NormalStartPfn >> PageAllocator.PageblockOrder;
        Assert.Equal(Enumerable.Range(0, 6).Select(i => firstBlock + i), touched);
        AllocatorCounters counters = host.Allocator.GetCounters();
        int batch = host.Allocator.Zones[0].PcpBatch;
        Assert.Equal((Count + batch - 1) / batch, counters.PcpRefills);
        Assert.Equal(3, counters.MigratetypeFallbacks); // three order-10 movable blocks claimed whole
        Assert.Equal(0, counters.ZoneFallbacks);
        host.AssertInvariants("after sequential allocation");
    }

    [Fact]
    public void Order9Folio_ComesAlignedFromTheBuddyLists()
    {
        using var host = AllocatorHost.Small();
        Assert.True(host.Allocator.TryAllocatePages(0, 9, AllocFlags.None, out long pfn));

        Assert.Equal(0, pfn % 512);
        Assert.Equal(FrameFlags.Head, host.Frames[pfn].Flags);
        Assert.All(Enumerable.Range(0, 512), i => Assert.Equal(FrameOwner.Allocated, host.Frames[pfn + i].Owner));
        Assert.Equal(0, host.Allocator.GetCounters().PcpRefills);
        host.Allocator.FreePages(0, pfn, 9);
        host.AssertInvariants("after order-9 free");
        Assert.Equal(16384, host.Count(FrameOwner.Free));
    }

    [Fact]
    public void RandomAllocFree_ConservesFramesAndKeepsBuddyInvariants()
    {
        const int Seed = 4242;
        var random = new Random(Seed);
        using var host = AllocatorHost.Small(cpus: 2, pcpBatch: 7, pcpHigh: 20);
        var allocated = new Dictionary<long, (int Order, int Cpu, bool Unmapped)>();
        var allocatedPages = new HashSet<long>();

        for (int step = 0; step < 4000; step++)
        {
            int cpu = random.Next(2);
            string context = $"seed {Seed} step {step}";
            if (allocated.Count > 0 && random.Next(100) < 45)
            {
                long victim = allocated.Keys.ElementAt(random.Next(allocated.Count));
                (int order, _, _) = allocated[victim];
                host.Allocator.FreePages(cpu, victim, order);
                allocated.Remove(victim);
                for (long p = victim; p < victim + (1L << order); p++)
                {
                    allocatedPages.Remove(p);
                }
            }
            else if (random.Next(100) < 5)
            {
                host.Allocator.DrainLocalPages(cpu);
            }
            else
            {
                int order = random.Next(100) < 70 ? 0 : random.Next(PageAllocator.MaxPageOrder + 1);
                bool pageTable = order == 0 && random.Next(20) == 0;
                AllocFlags flags = random.Next(3) switch
                {
                    0 when !pageTable => AllocFlags.Movable,
                    1 when !pageTable && order <= PageAllocator.PageblockOrder => AllocFlags.Unmapped,
                    _ => AllocFlags.None,
                };
                bool ok = pageTable
                    ? host.Allocator.TryAllocatePageTable(cpu, out long pfn)
                    : host.Allocator.TryAllocatePages(cpu, order, flags, out pfn);
                if (ok)
                {
                    Assert.Equal(0, pfn & ((1L << order) - 1));
                    for (long p = pfn; p < pfn + (1L << order); p++)
                    {
                        Assert.True(allocatedPages.Add(p), $"{context}: pfn {p} handed out twice");
                        bool unmapped = flags == AllocFlags.Unmapped;
                        Assert.True(host.DirectMap.IsUnmapped(p) == unmapped, $"{context}: pfn {p} direct-map state does not match the request");
                    }

                    allocated.Add(pfn, (order, cpu, flags == AllocFlags.Unmapped));
                }
            }

            long owned = host.Count(FrameOwner.Allocated) + host.Count(FrameOwner.PageTable);
            Assert.True(owned == allocatedPages.Count, $"{context}: frame table says {owned} allocated, reference {allocatedPages.Count}");
            Assert.True(host.Count(FrameOwner.Free) == 16384 - allocatedPages.Count, $"{context}: free count");
            if (step % 8 == 0)
            {
                host.AssertInvariants(context);
            }
        }

        foreach ((long pfn, (int order, int cpu, _)) in allocated)
        {
            host.Allocator.FreePages(cpu, pfn, order);
        }

        host.Allocator.DrainLocalPages(0);
        host.Allocator.DrainLocalPages(1);
        host.AssertInvariants("after freeing everything");
        Assert.Equal(16384, host.Allocator.TestHookBuddyFreePages(FreeType.Unmovable) + host.Allocator.TestHookBuddyFreePages(FreeType.Movable) + host.Allocator.TestHookBuddyFreePages(FreeType.UnmappedUnmovable));
    }

    [Fact]
    public void SameCallSequence_GivesSamePfns()
    {
        static List<long> Run()
        {
            var random = new Random(7);
            using var host = AllocatorHost.Small(cpus: 2);
            var live = new List<(long Pfn, int Order)>();
            var produced = new List<long>();
            for (int i = 0; i < 2000; i++)
            {
                if (live.Count > 0 && random.Next(2) == 0)
                {
                    int index = random.Next(live.Count);
                    host.Allocator.FreePages(i % 2, live[index].Pfn, live[index].Order);
                    live.RemoveAt(index);
                }
                else
                {
                    int order = random.Next(4);
                    if (host.Allocator.TryAllocatePages(i % 2, order, random.Next(2) == 0 ? AllocFlags.Movable : AllocFlags.None, out long pfn))
                    {
                        live.Add((pfn, order));
                        produced.Add(pfn);
                    }
                }
            }

            return produced;
        }

        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void PageTablePages_AreMarkedAndCounted()
    {
        using var host = AllocatorHost.Small();
        Assert.True(host.Allocator.TryAllocatePageTable(0, out long pfn));

        Assert.Equal(FrameOwner.PageTable, host.Frames[pfn].Owner);
        Assert.Equal(1, host.Allocator.GetCounters().PageTableAllocations);
        host.Allocator.FreePageTable(0, pfn);
        Assert.Equal(FrameOwner.Free, host.Frames[pfn].Owner);
    }

    [Fact]
    public void InjectedFailures_HitOnlyTheChosenKind_ThenStop()
    {
        using var host = AllocatorHost.Small();
        host.Allocator.InjectFailures(2, AllocationKinds.PageTable);

        Assert.True(host.Allocator.TryAllocatePages(0, 0, AllocFlags.None, out _), "ordinary allocations are not targeted");
        Assert.False(host.Allocator.TryAllocatePageTable(0, out long failed));
        Assert.Equal(-1, failed);
        Assert.False(host.Allocator.TryAllocatePageTable(0, out _));
        Assert.True(host.Allocator.TryAllocatePageTable(0, out _), "only two failures were injected");

        AllocatorCounters counters = host.Allocator.GetCounters();
        Assert.Equal(2, counters.InjectedFailures);
        Assert.Equal(2, counters.FailedAllocations);
        Assert.Equal(1, counters.PageTableAllocations);
    }

    [Fact]
    public void Exhaustion_FailsWithoutChangingState()
    {
        using var host = AllocatorHost.Small();
        int pages = 0;
        while (host.Allocator.TryAllocatePages(0, 0, AllocFlags.None, out _))
        {
            pages++;
        }

        Assert.Equal(16384, pages);
        Assert.Equal(1, host.Allocator.GetCounters().FailedAllocations);
        Assert.True(host.Allocator.GetCounters().ZoneFallbacks > 0, "the DMA zone is used once DMA32 is empty");
        host.AssertInvariants("at exhaustion");
    }

    [Fact]
    public void FreeCheck_SeesEveryFreedFrame_IncludingThoseDrainedFromPcp()
    {
        var random = new Random(99);
        using var host = AllocatorHost.Small(pcpBatch: 3, pcpHigh: 8);
        var freed = new List<long>();
        var live = new List<(long Pfn, int Order)>();
        for (int i = 0; i < 600; i++)
        {
            int order = random.Next(4) == 0 ? random.Next(1, 4) : 0;
            Assert.True(host.Allocator.TryAllocatePages(0, order, AllocFlags.None, out long pfn));
            live.Add((pfn, order));
        }

        foreach ((long pfn, int order) in live.OrderBy(_ => random.Next()))
        {
            host.Allocator.FreePages(0, pfn, order);
            for (long p = pfn; p < pfn + (1L << order); p++)
            {
                freed.Add(p);
            }
        }

        host.Allocator.DrainLocalPages(0);
        Assert.True(host.Allocator.GetCounters().PcpDrains > 10, "the test must exercise drains");
        List<long> checkedPfns = host.DirectMap.Frees.SelectMany(f => Enumerable.Range(0, 1 << f.Order).Select(i => f.Pfn + i)).ToList();
        Assert.Equal(freed.Order(), checkedPfns.Order());
        Assert.Equal(host.Allocator.GetCounters().PagesFreed, checkedPfns.Count);
        Assert.All(host.DirectMap.Frees, f => Assert.False(f.ToUnmapped));
    }

    [Fact]
    public void DoubleFree_IsRejected()
    {
        using var host = AllocatorHost.Small();
        Assert.True(host.Allocator.TryAllocatePages(0, 0, AllocFlags.None, out long pfn));
        host.Allocator.FreePages(0, pfn, 0);

        Assert.Throws<InvalidOperationException>(() => host.Allocator.FreePages(0, pfn, 0));
    }

    [Fact]
    public void Dispose_ReturnsAllNativeMemory()
    {
        var arena = new NativeArena();
        var frames = new FrameTable(arena, MemoryLayout.FromSize(64 * PageGeometry.MiB));
        var allocator = new PageAllocator(arena, frames, new AllocatorOptions { CpuCount = 4 });
        Assert.True(allocator.TryAllocatePages(3, 0, AllocFlags.None, out _));
        Assert.True(arena.AllocatedBytes > 16384 * 8, "frame table plus allocator arrays");
        Assert.True(arena.BlockCount >= 4, "frame table (with the free-list links and buddy state), pageblocks, pcp lists, counters");

        arena.Dispose();

        Assert.Equal(0, arena.AllocatedBytes);
        Assert.Equal(0, arena.BlockCount);
    }

    [Fact]
    public void PcpAllocFreeLoop_AllocatesNothingOnTheManagedHeap()
    {
        using var host = AllocatorHost.Small(cpus: 2, pcpBatch: 15, pcpHigh: 90);
        host.Allocator.SetFreeCheck(null); // the recording fake appends to a list; measure the allocator alone
        long[] pfns = new long[200];
        RunLoop(host.Allocator, pfns); // warm up: JIT, first refills, lock inflation

        Allocations.AssertSteadyStateFree(() =>
        {
            for (int round = 0; round < 50; round++)
            {
                RunLoop(host.Allocator, pfns);
            }
        });
        Assert.True(host.Allocator.GetCounters().PcpDrains > 50, "the loop must cross refills and drains");

        static void RunLoop(PageAllocator allocator, long[] pfns)
        {
            for (int i = 0; i < pfns.Length; i++)
            {
                if (!allocator.TryAllocatePages(1, 0, AllocFlags.None, out pfns[i]))
                {
                    throw new InvalidOperationException("allocation failed");
                }
            }

            for (int i = 0; i < pfns.Length; i++)
            {
                allocator.FreePages(1, pfns[i], 0);
            }
        }
    }

    [Fact]
    public void ConcurrentCpus_OnHostThreads_KeepConservation()
    {
        const int Cpus = 4;
        using var host = AllocatorHost.Small(cpus: Cpus, pcpBatch: 7, pcpHigh: 42);
        var owned = new List<(long Pfn, int Order)>[Cpus];
        for (int cpu = 0; cpu < Cpus; cpu++)
        {
            owned[cpu] = [];
        }

        HostThreads.Run(Cpus, me =>
        {
            var random = new Random(1000 + me);
            List<(long Pfn, int Order)> mine = owned[me];
            for (int i = 0; i < 20_000; i++)
            {
                if (mine.Count > 0 && random.Next(2) == 0)
                {
                    int index = random.Next(mine.Count);
                    host.Allocator.FreePages(me, mine[index].Pfn, mine[index].Order);
                    mine[index] = mine[^1];
                    mine.RemoveAt(mine.Count - 1);
                }
                else
                {
                    int order = random.Next(8) == 0 ? random.Next(1, 10) : 0;
                    AllocFlags flags = random.Next(3) switch { 0 => AllocFlags.Movable, 1 => AllocFlags.Unmapped, _ => AllocFlags.None };
                    if (host.Allocator.TryAllocatePages(me, order, flags, out long pfn))
                    {
                        mine.Add((pfn, order));
                    }
                }
            }
        });

        var pages = new HashSet<long>();
        foreach ((long pfn, int order) in owned.SelectMany(list => list))
        {
            for (long p = pfn; p < pfn + (1L << order); p++)
            {
                Assert.True(pages.Add(p), $"pfn {p} owned by two simulated CPUs");
            }
        }

        Assert.Equal(pages.Count, host.Count(FrameOwner.Allocated));
        host.AssertInvariants("after the concurrent run");
        for (int cpu = 0; cpu < Cpus; cpu++)
        {
            foreach ((long pfn, int order) in owned[cpu])
            {
                host.Allocator.FreePages(cpu, pfn, order);
            }

            host.Allocator.DrainLocalPages(cpu);
        }

        host.AssertInvariants("after freeing everything");
        Assert.Equal(16384, host.Count(FrameOwner.Free));
    }
}
