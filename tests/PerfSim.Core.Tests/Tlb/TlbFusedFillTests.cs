using PerfSim.Core.Kernel;
using PerfSim.Core.Tests.Kernel;
using PerfSim.Core.Timeline;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Tests.Tlb;

/// <summary>The fused zeroing fill and zap INVLPG (TlbModel's "Fused fill and INVLPG"): a model
/// that fuses and one that does not, driven by the same seeded operations, must return the same
/// results and end every step in byte-identical state.</summary>
public class TlbFusedFillTests
{
    [Theory]
    [InlineData(1, 3, false, false)]
    [InlineData(2, 5, false, true)]
    [InlineData(3, 70, false, false)] // two bitmask words
    [InlineData(4, 70, true, true)]
    [InlineData(5, 2, true, false)]
    public void Fused_and_plain_models_give_the_same_results_and_identical_state(int seed, int cpus, bool unified, bool deferMasks)
    {
        TlbGeometry geometry = unified ? TestGeometries.Unified : TestGeometries.Tiny;
        const long endPfn = 3L << 18;
        using var fused = new TlbModel(cpus, endPfn, geometry) { DeferRegionMasks = deferMasks };
        using var plain = new TlbModel(cpus, endPfn, geometry) { DeferRegionMasks = deferMasks, FuseZapFills = false };
        var rng = new Random(seed);
        int snapshots = 0;
        int steps = cpus > 8 ? 5_000 : 12_000;
        int snapshotEvery = cpus > 8 ? 10 : 1; // whole-state comparisons cost O(CPUs)
        for (int step = 0; step < steps; step++)
        {
            int cpu = rng.Next(4) == 0 ? rng.Next(cpus) : rng.Next(Math.Min(cpus, 3));
            long pfn = Math.Clamp((rng.Next(3) << 18) + 144 + rng.Next(-2000, 2000), 0, endPfn - 1);
            int op = rng.Next(100);
            string where = $"seed {seed} step {step} op {op} cpu {cpu} pfn {pfn}";
            if (op < 40)
            {
                // A fault: zeroing (lookup, fill on a miss), then maybe something in between, then
                // the zap's own INVLPG of the page (as in quantum mode) or a flush of every CPU.
                var level = rng.Next(6) == 0 ? (PageLevel)(1 + rng.Next(3)) : PageLevel.Level4K;
                Assert.Equal(plain.Lookup(cpu, pfn), fused.Lookup(cpu, pfn));
                plain.Fill(cpu, pfn, level);
                fused.Fill(cpu, pfn, level);
                Between(plain, fused, rng, cpus, cpu, pfn, where);
                int only = rng.Next(4) == 0 ? -1 : rng.Next(8) == 0 ? (cpu + 1) % cpus : cpu;
                long pages = rng.Next(8) == 0 ? rng.Next(1, 5) : 1;
                long start = rng.Next(8) == 0 ? Math.Max(0, pfn - rng.Next(2)) : pfn;
                Assert.True(plain.InvalidateRange(start, pages, only) == fused.InvalidateRange(start, pages, only), where);
            }
            else if (op < 60)
            {
                bool present = rng.Next(4) != 0;
                Assert.Equal(plain.Lookup(cpu, pfn, present), fused.Lookup(cpu, pfn, present));
            }
            else if (op < 85)
            {
                var level = (PageLevel)(1 + rng.Next(3));
                plain.Fill(cpu, pfn, level);
                fused.Fill(cpu, pfn, level);
            }
            else if (op < 95)
            {
                long pages = Math.Min(rng.Next(1, 40), endPfn - pfn);
                int only = rng.Next(3) == 0 ? cpu : -1;
                Assert.True(plain.InvalidateRange(pfn, pages, only) == fused.InvalidateRange(pfn, pages, only), where);
            }
            else
            {
                Between(plain, fused, rng, cpus, cpu, pfn, where);
            }

            for (int c = 0; c < cpus; c++)
            {
                Assert.True(plain.CountersOf(c) == fused.CountersOf(c), $"{where}: cpu {c} counters");
            }

            if (step % snapshotEvery == 0 && !fused.AnyPendingFillForTest())
            {
                Assert.True(plain.StateForTest().AsSpan().SequenceEqual(fused.StateForTest()), $"{where}: state differs");
                snapshots++;
            }
        }

        plain.AssertInvariants();
        fused.AssertInvariants();
        Assert.True(plain.StateForTest().AsSpan().SequenceEqual(fused.StateForTest()), $"seed {seed}: final state differs");
        long cancels = Enumerable.Range(0, cpus).Sum(fused.FusedCancelsOf);
        TlbCpuCounters total = fused.TotalCounters();
        Assert.True(cancels > steps / 40, $"the fused path must be taken often: {cancels}");
        Assert.True(total.Evictions > 20 && total.StaleHits > 0, $"the plain path must be exercised too: {total}");
        Assert.Equal(0, Enumerable.Range(0, cpus).Sum(plain.FusedCancelsOf));
        Assert.True(snapshots > steps / snapshotEvery / 2, $"{snapshots} byte-exact comparisons");
    }

    [Fact]
    public void A_cancelled_fill_counts_the_cpu_as_the_pages_one_holder_and_leaves_nothing_behind()
    {
        using var tlb = new TlbModel(4, 1 << 20, TlbGeometry.SkylakeSp) { DeferRegionMasks = true };
        byte[] empty = tlb.StateForTest();
        Assert.False(tlb.Lookup(2, 777).Hit);
        tlb.Fill(2, 777, PageLevel.Level4K);
        Assert.True(tlb.AnyPendingFillForTest());
        Assert.Equal(new StaleTally(1, 1, 1, 1), tlb.InvalidateRange(777, 1, onlyCpu: 2));
        Assert.Equal(1, tlb.FusedCancelsOf(2));
        Assert.False(tlb.AnyPendingFillForTest());
        Assert.False(tlb.Holds(2, 777));
        Assert.Equal(new TlbCpuCounters(0, 1, 0, 1, 0, 0, 0, 0, 0), tlb.CountersOf(2));

        // The pair leaves only what install-then-remove leaves: the LRU clock moved twice, the way
        // keeps its stale stamp, and the region is queued for its mask (deferred masks).
        using var plain = new TlbModel(4, 1 << 20, TlbGeometry.SkylakeSp) { DeferRegionMasks = true, FuseZapFills = false };
        Assert.False(plain.Lookup(2, 777).Hit);
        plain.Fill(2, 777, PageLevel.Level4K);
        Assert.Equal(new StaleTally(1, 1, 1, 1), plain.InvalidateRange(777, 1, onlyCpu: 2));
        Assert.Equal(plain.StateForTest(), tlb.StateForTest());
        Assert.NotEqual(empty, tlb.StateForTest());
        tlb.AssertInvariants();
    }

    [Fact]
    public void A_pending_fill_is_installed_before_anything_else_reads_the_cpu()
    {
        using var tlb = new TlbModel(2, 1 << 20, TlbGeometry.SkylakeSp);
        tlb.Fill(1, 5000, PageLevel.Level4K);
        Assert.True(tlb.AnyPendingFillForTest());

        // Another CPU's flush of every CPU probes CPU 1 through its region mask: the fill is there.
        Assert.Equal(new StaleTally(1, 1, 1, 1), tlb.InvalidateRange(5000, 1));
        Assert.Equal(0, tlb.FusedCancelsOf(1));
        tlb.Fill(1, 6000, PageLevel.Level4K);
        Assert.True(tlb.Lookup(1, 6000).Hit);
        tlb.Fill(1, 7000, PageLevel.Level4K);
        Assert.True(tlb.Holds(1, 7000));

        // A 2M entry over the page: the INVLPG must drop it too, so the plain path runs.
        tlb.Fill(0, 1 << 9, PageLevel.Level2M);
        tlb.Fill(0, (1 << 9) + 3, PageLevel.Level4K);
        Assert.Equal(new StaleTally(1, 1, 1, 1), tlb.InvalidateRange((1 << 9) + 3, 1, onlyCpu: 0));
        Assert.Equal(0, tlb.FusedCancelsOf(0));
        Assert.False(tlb.Holds(0, 1 << 9));
        tlb.AssertInvariants();
    }

    private static void Between(TlbModel plain, TlbModel fused, Random rng, int cpus, int cpu, long pfn, string where)
    {
        switch (rng.Next(12))
        {
            case 0:
                plain.FlushAllCpus();
                fused.FlushAllCpus();
                break;
            case 1:
                plain.FlushLocalAll(cpu);
                fused.FlushLocalAll(cpu);
                break;
            case 2:
                plain.SyncRegionMasks();
                fused.SyncRegionMasks();
                break;
            case 3:
                Assert.Equal(plain.Holds(cpu, pfn), fused.Holds(cpu, pfn));
                break;
            case 4:
                int other = rng.Next(cpus);
                plain.Fill(other, pfn + 1, PageLevel.Level4K);
                fused.Fill(other, pfn + 1, PageLevel.Level4K);
                break;
            case 5:
                int target = rng.Next(cpus);
                Assert.True(plain.InvalidateRange(pfn + 2, 1, target) == fused.InvalidateRange(pfn + 2, 1, target), where);
                break;
            default:
                break; // most faults: the zap follows at once
        }
    }
}

/// <summary>The kernel's per-folio fault takes the fused path and ends exactly where the plain one does.</summary>
public class TlbFusedFillKernelTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Per_folio_faults_cancel_their_zeroing_fill_with_identical_results(bool quanta)
    {
        using SimKernel fused = KernelFixture.Create(Strategy.PerFolio);
        using SimKernel plain = KernelFixture.Create(Strategy.PerFolio);
        plain.Tlb.FuseZapFills = false;
        long[] fusedLatencies = Faults(fused, quanta);
        long[] plainLatencies = Faults(plain, quanta);

        Assert.Equal(plainLatencies, fusedLatencies);
        Assert.Equal(plain.Tlb.TotalCounters(), fused.Tlb.TotalCounters());
        Assert.Equal(plain.Flush.TotalExposure(), fused.Flush.TotalExposure());
        Assert.Equal(plain.TotalCounters(), fused.TotalCounters());
        Assert.True(plain.Tlb.StateForTest().AsSpan().SequenceEqual(fused.Tlb.StateForTest()));
        long cancels = Enumerable.Range(0, fused.CpuCount).Sum(fused.Tlb.FusedCancelsOf);
        // Quantum mode flushes the zapping CPU alone at once: every fault after the first (a split,
        // whose full flush empties the TLBs) cancels its fill; the plain engine flushes every CPU.
        Assert.Equal(quanta ? 299 : 0, cancels);
        fused.Tlb.AssertInvariants();
    }

    private static long[] Faults(SimKernel k, bool quanta)
    {
        KernelFile file = KernelFixture.Gmem(k, 4096);
        QuantumSession? session = quanta ? k.BeginQuanta(new Discard()) : null;
        var latencies = new long[300];
        for (int i = 0; i < latencies.Length; i++)
        {
            PathResult r = k.GmemGetPfn(i % k.CpuCount, file, (i * 7) % 1024);
            Assert.True(r.Ok);
            latencies[i] = r.LatencyNs;
        }

        session?.Dispose();
        return latencies;
    }

    private sealed class Discard : ILatencySink
    {
        public void Record(int cpu, int histogram, long serviceNs, long elapsedNs)
        {
        }
    }
}
