using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Flush;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Tests.Flush;

public sealed class FlushEngineTests : IDisposable
{
    private const long EndPfn = 9L << 18; // 9 GiB: room for arm64's 2,097,152-page range limit
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }
    }

    private FlushEngine Engine(ArchKind kind, int cpus, Func<ArchProfile, ArchProfile>? tweak = null)
    {
        ArchProfile arch = ArchProfile.For(kind);
        arch = tweak?.Invoke(arch) ?? arch;
        var tlb = new TlbModel(cpus, EndPfn, arch.Geometry);
        var engine = new FlushEngine(tlb, arch, CostProfile.Default(kind));
        _owned.Add(tlb);
        _owned.Add(engine);
        return engine;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(64)]
    [InlineData(1024)]
    public void X86_up_to_33_pages_is_an_ipi_to_every_other_cpu_with_invlpg_per_page(int cpus)
    {
        FlushEngine e = Engine(ArchKind.X86_64, cpus);
        FlushOutcome o = e.FlushKernelRange(0, 100, 33, 0);
        Assert.False(o.FullFlush);
        Assert.Equal(cpus - 1, o.IpiCallbacks);
        Assert.Equal(cpus - 1, o.Targets);
        Assert.Equal(33L * cpus, o.InvalidationOps);
        Assert.Equal(33 * e.Costs.InvlpgNs, o.CallbackNs);

        FlushOutcome full = e.FlushKernelRange(0, 100, 34, 0);
        Assert.True(full.FullFlush);
        Assert.Equal(cpus - 1, full.IpiCallbacks);
        Assert.Equal(0, full.InvalidationOps);
        Assert.Equal(e.Costs.FullFlushNs, full.CallbackNs);

        FlushCounters c = e.CountersOf(0);
        Assert.Equal(new FlushCounters(2, 0, 0, 1, 2L * (cpus - 1), 33L * cpus, 0, 0, 0), c);
        Assert.Equal(c, e.TotalCounters());
    }

    [Fact]
    public void X86_ceiling_is_configurable()
    {
        FlushEngine e = Engine(ArchKind.X86_64, 4, a => a with { Flush = new X86IpiFlush { SinglePageFlushCeiling = 8 } });
        Assert.False(e.FlushKernelRange(0, 0, 8, 0).FullFlush);
        Assert.True(e.FlushKernelRange(0, 0, 9, 0).FullFlush);
    }

    [Fact]
    public void X86_full_flush_invalidates_every_cpu_and_flush_all_too()
    {
        FlushEngine e = Engine(ArchKind.X86_64, 8);
        for (int c = 0; c < 8; c++)
        {
            e.Tlb.Fill(c, 5000 + c, PageLevel.Level4K);
        }

        e.FlushKernelRange(3, 0, 100, 0);
        for (int c = 0; c < 8; c++)
        {
            Assert.False(e.Tlb.Lookup(c, 5000 + c).Hit);
            e.Tlb.Fill(c, 5000 + c, PageLevel.Level4K);
        }

        FlushOutcome all = e.FlushAll(3, 0);
        Assert.True(all.FullFlush);
        Assert.Equal(7, all.IpiCallbacks);
        Assert.Equal(1, e.CountersOf(3).FlushAlls);
        Assert.All(Enumerable.Range(0, 8), c => Assert.False(e.Tlb.Lookup(c, 5000 + c).Hit));
    }

    [Fact]
    public void An_ipi_flush_charges_the_initiator_its_local_part_and_hands_each_target_its_invalidations()
    {
        FlushEngine e = Engine(ArchKind.X86_64, 4);
        FlushOutcome one = e.FlushKernelRange(0, 0, 1, 0);
        Assert.Equal(e.Costs.FlushBaseNs + e.Costs.InvlpgNs, one.InitiatorLatencyNs);
        Assert.Equal((3, e.Costs.InvlpgNs), (one.IpiCallbacks, one.CallbackNs));
        FlushOutcome full = e.FlushKernelRange(2, 0, 40, 0);
        Assert.Equal((true, e.Costs.FullFlushNs), (full.FullFlush, full.CallbackNs));
    }

    [Fact]
    public void Invlpgb_broadcasts_in_chunks_with_one_tlbsync_and_no_ipis()
    {
        FlushEngine e = Engine(ArchKind.X86_64Invlpgb, 64);
        e.Tlb.Fill(17, 110, PageLevel.Level4K);
        FlushOutcome o = e.FlushKernelRange(0, 100, 20, 0);
        Assert.False(o.FullFlush);
        Assert.Equal(0, o.IpiCallbacks);
        Assert.Equal(3, o.InvalidationOps); // 8 + 8 + 4
        Assert.Equal(e.Costs.FlushBaseNs + (3 * e.Costs.InvlpgbNs) + e.Costs.TlbsyncNs, o.InitiatorLatencyNs);
        Assert.False(e.Tlb.Lookup(17, 110).Hit);

        FlushOutcome full = e.FlushKernelRange(0, 100, 34, 0);
        Assert.True(full.FullFlush);
        Assert.Equal(1, full.InvalidationOps);
        FlushCounters c = e.CountersOf(0);
        Assert.Equal((4L, 2L, 0L), (c.InvlpgbOps, c.Tlbsyncs, c.IpiCallbacks));
    }

    [Fact]
    public void Arm64_per_page_tlbi_up_to_511_pages_then_full_flush_never_ipis()
    {
        FlushEngine e = Engine(ArchKind.Arm64, 16);
        FlushOutcome o = e.FlushKernelRange(0, 0, 511, 0);
        Assert.False(o.FullFlush);
        Assert.Equal(511, o.InvalidationOps);
        Assert.Equal(0, o.IpiCallbacks);
        Assert.Equal(15, o.Targets);
        Assert.Equal(e.Costs.TlbiSyncNs + (511 * e.Costs.TlbiPageNs), o.InitiatorLatencyNs);
        FlushOutcome full = e.FlushKernelRange(0, 0, 512, 0);
        Assert.True(full.FullFlush);
        Assert.Equal(e.Costs.TlbiSyncNs + e.Costs.TlbiAllNs, full.InitiatorLatencyNs);
        Assert.Equal(512, e.CountersOf(0).TlbiOps);
    }

    [Fact]
    public void Arm64_range_tlbi_uses_few_ops_and_full_flushes_only_above_8_GiB()
    {
        FlushEngine e = Engine(ArchKind.Arm64Bbml2, 4);
        Assert.Equal(1, e.FlushKernelRange(0, 0, 512, 0).InvalidationOps);
        FlushOutcome max = e.FlushKernelRange(0, 0, 2_097_152, 0);
        Assert.False(max.FullFlush);
        Assert.Equal(1, max.InvalidationOps);
        Assert.True(e.FlushKernelRange(0, 0, 2_097_153, 0).FullFlush);
    }

    [Theory]
    [InlineData(1, 0, 1)]
    [InlineData(2, 1, 0)]
    [InlineData(3, 1, 1)]
    [InlineData(64, 1, 0)]
    [InlineData(70_000, 4, 0)]
    [InlineData(2_097_152, 1, 0)]
    [InlineData(2_097_151, 4, 1)]
    public void Arm64_range_op_encoding_matches_the_kernel_loop(long pages, int rangeOps, int pageOps) =>
        Assert.Equal((rangeOps, pageOps), Arm64TlbiFlush.RangeOps(pages));

    [Fact]
    public void Local_flushes_touch_one_cpu_and_send_nothing()
    {
        FlushEngine e = Engine(ArchKind.X86_64, 4);
        e.Tlb.Fill(0, 9, PageLevel.Level4K);
        e.Tlb.Fill(1, 9, PageLevel.Level4K);
        FlushOutcome o = e.FlushLocalAll(0, 0);
        Assert.Equal((0, 0), (o.IpiCallbacks, o.Targets));
        Assert.False(e.Tlb.Lookup(0, 9).Hit);
        Assert.True(e.Tlb.Lookup(1, 9).Hit);

        e.Tlb.Fill(2, 9, PageLevel.Level4K);
        FlushOutcome r = e.FlushLocalRange(1, 9, 1, 100, zappedAtNs: 50);
        Assert.Equal(new StaleTally(1, 1, 1, 1), r.Stale);
        Assert.False(e.Tlb.Lookup(1, 9).Hit);
        Assert.True(e.Tlb.Lookup(2, 9).Hit);
        Assert.Equal(2, e.TotalCounters().LocalFlushes);
    }

    [Fact]
    public void Zap_exposure_window_and_stale_holders_are_recorded()
    {
        FlushEngine e = Engine(ArchKind.X86_64, 4);
        e.Tlb.Fill(1, 4242, PageLevel.Level4K);
        e.Tlb.Fill(2, 4242, PageLevel.Level2M);
        // Zapped at t=1000: until the flush, CPU 1 can still read the page.
        Assert.True(e.Tlb.Lookup(1, 4242, pagePresent: false).Stale);
        FlushOutcome o = e.FlushKernelRange(0, 4242, 2, nowNs: 1500, zappedAtNs: 1000);
        Assert.Equal(new StaleTally(2, 2, 3, 2), o.Stale);
        Assert.False(e.Tlb.Lookup(1, 4242, pagePresent: false).Hit);
        Assert.Equal(1, e.Tlb.CountersOf(1).StaleHits);

        // The window closes when the initiator's nominal wait ends (targets in the host, queues empty).
        long window = 500 + o.InitiatorLatencyNs + e.Costs.IpiSendNs + e.Costs.IpiDeliveryNs + e.Costs.IpiHandlerNs + (2 * e.Costs.AckWaitPerExtraTargetNs);
        Assert.Equal(new StaleExposure(2, 2, 3, 2, 2 * window, window), e.ExposureOf(0));
        Assert.Equal(e.ExposureOf(0), e.TotalExposure());
        Span<long> histogram = stackalloc long[FlushEngine.HistogramBuckets];
        e.AddExposureHistogram(histogram);
        Assert.Equal(2, histogram[64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)window)]);

        // A flush that does not close a zap records nothing.
        e.FlushKernelRange(0, 7, 1, 2000);
        Assert.Equal(2, e.TotalExposure().ZappedPages);
    }

    [Fact]
    public void Zapped_range_above_the_ceiling_still_counts_holders_before_the_full_flush()
    {
        FlushEngine e = Engine(ArchKind.X86_64, 4);
        e.Tlb.Fill(3, 1000, PageLevel.Level2M);
        FlushOutcome o = e.FlushKernelRange(0, 512, 512, 10, zappedAtNs: 0);
        Assert.True(o.FullFlush);
        Assert.Equal(new StaleTally(512, 512, 512, 1), o.Stale);
    }

    [Fact]
    public void Batching_three_zaps_costs_one_ipi_round_instead_of_three()
    {
        FlushEngine batched = Engine(ArchKind.X86_64, 16);
        FlushEngine single = Engine(ArchKind.X86_64, 16);
        var batch = new FlushBatch();
        long singleLatency = 0;
        for (int i = 0; i < 3; i++)
        {
            batch.Add(1000 + (i * 20), 1, zappedAtNs: i * 10);
            singleLatency += single.FlushKernelRange(0, 1000 + (i * 20), 1, i * 10, i * 10).InitiatorLatencyNs;
        }

        Assert.Equal(3, batch.Count);
        FlushOutcome o = batch.Flush(batched, 0, 100);
        Assert.Equal(0, batch.Count);
        Assert.Equal(15, o.IpiCallbacks);
        Assert.Equal(3 * 16, o.InvalidationOps);
        Assert.Equal(45, single.TotalCounters().IpiCallbacks);
        Assert.True(o.InitiatorLatencyNs < singleLatency);
        Assert.Equal(3, batched.TotalExposure().ZappedPages);
        Assert.Equal(default, batch.Flush(batched, 0, 200));
    }

    [Fact]
    public void Batch_coalesces_adjacent_ranges_and_keeps_the_earliest_zap()
    {
        var batch = new FlushBatch(capacity: 2);
        batch.Add(10, 5, zappedAtNs: 300);
        batch.Add(15, 5, zappedAtNs: 100);
        batch.Add(12, 2);
        Assert.Equal(1, batch.Count);
        Assert.Equal(new PfnRange(10, 10, 100), batch.Ranges[0]);
        batch.Add(100, 1);
        batch.Add(40, 1, zappedAtNs: 500); // capacity reached: merged into the nearest range's hull
        Assert.Equal(2, batch.Count);
        Assert.Equal(new PfnRange(10, 31, 100), batch.Ranges[0]);
        Assert.Equal(32, batch.TotalPages);
    }

    [Fact]
    public void A_batch_above_the_ceiling_becomes_one_full_flush()
    {
        FlushEngine e = Engine(ArchKind.X86_64, 4);
        var batch = new FlushBatch();
        for (int i = 0; i < 40; i++)
        {
            batch.Add(i * 1000, 1);
        }

        FlushOutcome o = batch.Flush(e, 1, 0);
        Assert.True(o.FullFlush);
        Assert.Equal(1, e.TotalCounters().KernelRangeFlushes);
    }

    [Theory]
    [InlineData(ArchKind.X86_64)]
    [InlineData(ArchKind.X86_64Invlpgb)]
    [InlineData(ArchKind.Arm64)]
    [InlineData(ArchKind.Arm64Bbml2)]
    public void Steady_state_fills_lookups_and_flushes_allocate_nothing(ArchKind kind)
    {
        FlushEngine e = Engine(kind, 64);
        var batch = new FlushBatch();
        void Round(int i)
        {
            long pfn = (i * 4099L) % EndPfn;
            int cpu = i % 64;
            e.Tlb.Fill(cpu, pfn, (i & 7) == 0 ? PageLevel.Level2M : PageLevel.Level4K);
            e.Tlb.Lookup((cpu + 1) % 64, pfn, pagePresent: false);
            e.FlushKernelRange(cpu, pfn, 1, i, i - 1);
            batch.Add(pfn, 1, i);
            if (batch.Count == 8)
            {
                batch.Flush(e, cpu, i);
            }

            if ((i & 255) == 0)
            {
                e.FlushAll(cpu, i);
                e.FlushLocalAll(cpu, i);
            }

        }

        for (int i = 0; i < 1000; i++)
        {
            Round(i);
        }

        int next = 1000;
        Allocations.AssertSteadyStateFree(() =>
        {
            for (int end = next + 10_000; next < end; next++)
            {
                Round(next);
            }
        });
    }

    [Fact]
    public void Seeded_random_flushes_keep_counters_consistent_with_outcomes()
    {
        const int cpus = 24;
        FlushEngine e = Engine(ArchKind.X86_64, cpus);
        var rng = new Random(2026);
        long ipis = 0, invlpg = 0, full = 0;
        for (int i = 0; i < 3000; i++)
        {
            int cpu = rng.Next(cpus);
            long pfn = rng.NextInt64(EndPfn - 100);
            e.Tlb.Fill(rng.Next(cpus), pfn + rng.Next(100), PageLevel.Level4K);
            long pages = rng.Next(4) == 0 ? rng.Next(34, 100) : rng.Next(1, 34);
            FlushOutcome o = e.FlushKernelRange(cpu, pfn, pages, i * 1000L, i * 1000L - 10);
            Assert.Equal(pages > 33, o.FullFlush);
            ipis += o.IpiCallbacks;
            invlpg += o.InvalidationOps;
            full += o.FullFlush ? 1 : 0;
            Assert.Equal(o.FullFlush ? 0 : pages * cpus, o.InvalidationOps);
        }

        FlushCounters c = e.TotalCounters();
        Assert.Equal((3000L, ipis, invlpg, full), (c.KernelRangeFlushes, c.IpiCallbacks, c.Invlpg, c.FullFlushes));
        Assert.Equal(3000L * (cpus - 1), ipis);
        e.Tlb.AssertInvariants();
    }

    [Theory]
    [InlineData(ArchKind.X86_64, 33)]
    [InlineData(ArchKind.X86_64, 34)]
    [InlineData(ArchKind.Arm64, 511)]
    [InlineData(ArchKind.Arm64, 512)]
    [InlineData(ArchKind.Arm64Bbml2, 512)]
    [InlineData(ArchKind.Arm64Bbml2, 1000)]
    [InlineData(ArchKind.Arm64Bbml2, 2_097_153)]
    public void Local_and_kernel_range_flushes_use_one_full_flush_threshold(ArchKind kind, long pages)
    {
        FlushEngine e = Engine(kind, 4);
        bool kernelFull = e.FlushKernelRange(0, 0, pages, 0).FullFlush;
        Assert.Equal(kernelFull, e.FlushLocalRange(1, 0, pages, 0).FullFlush);
        Assert.Equal(e.Arch.Flush.IsFullFlush(pages), kernelFull);
    }

    [Fact]
    public void Arm64_range_ops_price_a_local_range_flush_as_they_price_a_broadcast()
    {
        FlushEngine e = Engine(ArchKind.Arm64Bbml2, 4);
        FlushOutcome kernel = e.FlushKernelRange(0, 0, 1000, 0);
        FlushOutcome local = e.FlushLocalRange(1, 0, 1000, 0);
        Assert.False(local.FullFlush);
        Assert.Equal((kernel.InitiatorLatencyNs, kernel.InvalidationOps), (local.InitiatorLatencyNs, local.InvalidationOps));
        Assert.Equal(kernel.InvalidationOps, e.CountersOf(1).TlbiOps);
    }

    [Fact]
    public void The_engine_charges_whatever_flush_model_the_profile_holds()
    {
        var model = new FixedPriceFlush();
        FlushEngine e = Engine(ArchKind.X86_64, 8, a => a with { Flush = model });
        FlushOutcome ranged = e.FlushKernelRange(0, 0, 5, 0);
        FlushOutcome full = e.FlushKernelRange(0, 0, 6, 0);
        FlushOutcome local = e.FlushLocalAll(2, 0);
        Assert.Equal((1000L, false, 5L, 7), (ranged.InitiatorLatencyNs, ranged.FullFlush, ranged.InvalidationOps, ranged.IpiCallbacks));
        Assert.Equal((1000L, true), (full.InitiatorLatencyNs, full.FullFlush));
        Assert.Equal(3L, local.InitiatorLatencyNs);
        Assert.Equal((14L, 11L, 2L), (e.CountersOf(0).IpiCallbacks, e.CountersOf(0).Tlbsyncs, e.CountersOf(2).Tlbsyncs));
    }

    /// <summary>A made-up architecture: full above 5 pages, 1 µs per broadcast, IPIs to everyone.</summary>
    private sealed record FixedPriceFlush : IFlushModel
    {
        public bool IsFullFlush(long pages) => pages > 5;

        public FlushCost Broadcast(ReadOnlySpan<PfnRange> ranges, long pages, bool full, int targets, CostProfile costs) =>
            new(1000, full ? 1 : pages, IpiCallbacks: targets, CallbackNs: 10, Tlbsyncs: full ? 10 : 1);

        public FlushCost Local(long pages, bool full, CostProfile costs) => new(3, 1, Tlbsyncs: 2);

        public void Validate()
        {
        }
    }
}
