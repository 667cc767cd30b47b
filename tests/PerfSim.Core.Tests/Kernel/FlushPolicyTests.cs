using PerfSim.Core.Arch;
using PerfSim.Core.Flush;
using PerfSim.Core.Invariants;
using PerfSim.Core.Kernel;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>The per-folio designs' flush policy: every zap (v8+), batch:N, none (v5).</summary>
public sealed class FlushPolicyTests
{
    private const int Cpus = 4;

    private static SimKernel Create(ZapFlushPolicy policy, Strategy strategy = Strategy.PerFolio, ArchKind arch = ArchKind.X86_64) =>
        KernelFixture.Create(strategy, Cpus, arch: arch, flushPolicy: policy);

    /// <summary>Faults pages [0, n) on CPU 0, after a first fault that takes the splits (their
    /// flush_tlb_all flushes everything, batch or not).</summary>
    private static KernelFile FaultIn(SimKernel k, int n)
    {
        KernelFile f = KernelFixture.Gmem(k, 1024);
        for (int i = 0; i < n; i++)
        {
            Assert.True(k.GmemGetPfn(0, f, i).Ok);
        }

        return f;
    }

    [Theory]
    [InlineData("every", ZapFlushKind.Every, 1)]
    [InlineData("none", ZapFlushKind.None, 0)]
    [InlineData("batch:2", ZapFlushKind.Batch, 2)]
    [InlineData("batch:512", ZapFlushKind.Batch, 512)]
    public void Policies_parse_and_print_back(string text, ZapFlushKind kind, int zaps)
    {
        Assert.True(ZapFlushPolicy.TryParse(text, out ZapFlushPolicy p));
        Assert.Equal((kind, zaps, text), (p.Kind, p.BatchZaps, p.Name));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("batch:1")]
    [InlineData("batch:513")]
    [InlineData("batch:")]
    [InlineData("batch:+4")]
    [InlineData("Every")]
    public void Bad_policies_are_refused(string? text) => Assert.False(ZapFlushPolicy.TryParse(text, out _));

    [Fact]
    public void Batch_eight_flushes_eight_zaps_in_one_ranged_call_and_leaves_the_window_open_meanwhile()
    {
        using SimKernel every = Create(ZapFlushPolicy.Every);
        using SimKernel batch = Create(ZapFlushPolicy.Batch(8));
        FaultIn(every, 33);
        FaultIn(batch, 33);

        FlushCounters e = every.Flush.TotalCounters();
        FlushCounters b = batch.Flush.TotalCounters();
        // 33 zaps: 33 flushes each way vs 4 batches of 8, the 33rd zap still pending.
        Assert.Equal(e.KernelRangeFlushes - 33 + 4, b.KernelRangeFlushes);
        Assert.Equal(e.IpiCallbacks - (29 * (Cpus - 1)), b.IpiCallbacks);
        Assert.Equal(e.FullFlushes, b.FullFlushes);
        Assert.Equal(32, batch.Flush.TotalExposure().ZappedPages);
        Assert.True(batch.Flush.TotalExposure().WindowMaxNs > every.Flush.TotalExposure().WindowMaxNs);

        batch.FlushZapBatches();

        Assert.Equal(33, batch.Flush.TotalExposure().ZappedPages);
        Assert.Equal(0, batch.Checker.Total);
        Assert.Equal(0, every.Checker.Total);
    }

    // x86 tlb_single_page_flush_ceiling (arch/x86/mm/tlb.c): a flush of more than 33 pages is a
    // full flush, for a batch as for one range.
    [Fact]
    public void A_batch_past_the_ceiling_is_one_full_flush()
    {
        using SimKernel k = Create(ZapFlushPolicy.Batch(40));
        long fullBefore = 0;
        KernelFile f = KernelFixture.Gmem(k, 1024);
        Assert.True(k.GmemGetPfn(0, f, 0).Ok);
        k.FlushZapBatches();
        fullBefore = k.Flush.TotalCounters().FullFlushes;

        for (int i = 1; i <= 40; i++)
        {
            Assert.True(k.GmemGetPfn(0, f, i).Ok);
        }

        Assert.Equal(fullBefore + 1, k.Flush.TotalCounters().FullFlushes);
        Assert.Equal(0, k.Checker.Total);
    }

    [Fact]
    public void None_flushes_nothing_and_the_checker_reports_each_translation_the_zapper_keeps()
    {
        using SimKernel k = Create(ZapFlushPolicy.None);
        KernelFile f = FaultIn(k, 50);
        long splits = k.DirectMap.Level2Splits;

        Assert.Equal(0, k.Flush.TotalCounters().KernelRangeFlushes);
        Assert.Equal(0, k.Flush.TotalExposure().ZappedPages);
        Assert.Equal(50 - splits, k.Checker.Count(ViolationKind.StaleTranslation));
        k.GmemPunchHole(0, f, 0, 50);
        Assert.Equal(0, k.Checker.Count(ViolationKind.LatentCrash));
    }

    [Fact]
    public void A_hole_punch_flushes_the_pending_batches_before_it_frees()
    {
        using SimKernel k = Create(ZapFlushPolicy.Batch(16));
        KernelFile f = FaultIn(k, 20);
        Assert.Equal(16, k.Flush.TotalExposure().ZappedPages);

        k.GmemPunchHole(1, f, 0, 20);

        Assert.Equal(20, k.Flush.TotalExposure().ZappedPages);
        Assert.Equal(20, k.TotalCounters().DirectMapRestores);
        Assert.Equal(0, k.Checker.Total);
        KernelFixture.AssertConserved(k, 0);
    }

    // The locality test reads what the zap reads: a fault whose zap completes a batch that will
    // flush fully (more than 33 pages) is not CPU-local; one that only adds to the batch is.
    [Fact]
    public void A_fault_that_completes_a_full_flush_batch_is_not_cpu_local()
    {
        using SimKernel k = Create(ZapFlushPolicy.Batch(40));
        KernelFile f = KernelFixture.Gmem(k, 1024);
        Assert.True(k.GmemFallocate(0, f, 0, 64) == 0);
        Assert.True(k.GmemGetPfn(0, f, 0).Ok);
        k.FlushZapBatches();
        for (int i = 1; i < 40; i++)
        {
            Assert.True(k.FaultIsCpuLocal(0, f, i), $"zap {i} only adds to the batch");
            Assert.True(k.GmemGetPfn(0, f, i).Ok);
        }

        Assert.False(k.FaultIsCpuLocal(0, f, 40));
        Assert.True(k.FaultIsCpuLocal(1, f, 40)); // CPU 1's batch is empty
    }

    [Theory]
    [InlineData(Strategy.Filemap, ArchKind.X86_64)]
    [InlineData(Strategy.UnmappedAlloc, ArchKind.X86_64)]
    [InlineData(Strategy.None, ArchKind.X86_64)]
    [InlineData(Strategy.PerFolio, ArchKind.Arm64)]
    public void Only_x86_per_folio_designs_take_a_policy(Strategy strategy, ArchKind arch) =>
        Assert.Throws<ArgumentException>(() => Create(ZapFlushPolicy.Batch(4), strategy, arch).Dispose());
}
