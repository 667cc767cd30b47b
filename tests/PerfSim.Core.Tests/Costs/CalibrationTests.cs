using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Flush;
using PerfSim.Core.Timeline;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Tests.Costs;

/// <summary>Runs the model (not a timing test) against the calibration tables F1, F2, F4 of docs/tlb-flush-costs.md.</summary>
public class CalibrationTests
{
    /// <summary>Hansen's part, IvyBridge i5-3320M: nominal (TSC) frequency 2.6 GHz.</summary>
    private const double HansenGhz = 2.6;

    /// <summary>Hansen's tracepoint timing bias included in every F1 value (C12).</summary>
    private const double HansenBiasCycles = 335;

    /// <summary>F2: Amit's loop is MADV_DONTNEED + touch, i.e. one syscall and one page fault per
    /// iteration besides the flush. The term is fitted on the 0-remote cell (661 ns − the model's
    /// 1-page local flush); the 1- and 3-remote cells then test the IPI constants.</summary>
    private const long AmitFaultAndSyscallNs = 246;

    /// <summary>F4 units are not stated (FPGA); the profile assumes 0.04 ns per unit.</summary>
    private const double Arm64NsPerUnit = 0.04;

    private static readonly (int Pages, double Cycles)[] s_f1 =
    [
        (1, 1276), (2, 1505), (3, 1880), (4, 2447), (5, 2358), (6, 2563), (7, 2862), (8, 3542), (10, 3570),
        (16, 5041), (17, 5473), (24, 6912), (32, 9350), (33, 8534),
    ];

    private static readonly (int Pages, double Classic, double Range)[] s_f4 =
    [
        (2, 11366, 11146), (4, 11694, 11101), (8, 12837, 11097), (16, 18233, 11094), (32, 26983, 11079),
        (64, 43840, 11092), (128, 77754, 11098), (256, 145514, 11089), (512, 280932, 11111),
    ];

    private static double ModelCycles(long ns) => (ns * HansenGhz) + HansenBiasCycles;

    /// <summary>One flush issued at time 0 by CPU 0, its IPIs (if any) through the call queue to
    /// targets running host threads with empty queues, as in Amit's loop (one thread per CPU).</summary>
    private static FlushOutcome Flush(ArchProfile arch, int cpus, long pages)
    {
        CostProfile costs = CostProfile.Default(arch.Kind);
        using var tlb = new TlbModel(cpus, 1 << 20, arch.Geometry);
        using var engine = new FlushEngine(tlb, arch, costs);
        FlushOutcome o = engine.FlushKernelRange(0, 0, pages, 0);
        if (o.IpiCallbacks == 0)
        {
            return o;
        }

        CallRound round = new HostCpus(cpus, costs).CallFunctionMany(0, o.CallAtNs, o.CallbackNs, new NoWork());
        return o with { InitiatorLatencyNs = Math.Max(o.InitiatorLatencyNs, round.DoneNs) };
    }

    private sealed class NoWork : IInterruptSink
    {
        public void Interrupted(ReadOnlySpan<int> cpus, ReadOnlySpan<long> ns)
        {
        }
    }

    [Fact]
    public void F1_local_flush_cost_vs_pages_within_15_percent()
    {
        ArchProfile x86 = ArchProfile.For(ArchKind.X86_64);
        foreach ((int pages, double cycles) in s_f1)
        {
            FlushOutcome o = Flush(x86, 1, pages);
            Assert.False(o.FullFlush);
            double model = ModelCycles(o.InitiatorLatencyNs);
            Assert.InRange(model / cycles, 0.85, 1.15);
        }
    }

    [Fact]
    public void F1_full_flush_exactly_above_33_pages_costs_the_full_flush_row()
    {
        ArchProfile x86 = ArchProfile.For(ArchKind.X86_64);
        Assert.False(Flush(x86, 1, 33).FullFlush);
        FlushOutcome o34 = Flush(x86, 1, 34);
        Assert.True(o34.FullFlush);
        Assert.Equal(0, o34.InvalidationOps);
        Assert.InRange(ModelCycles(o34.InitiatorLatencyNs) / 2283.0, 0.85, 1.15);
        // Hansen measured 34 and 35 pages with per-page INVLPG (the old ceiling): with the tunable
        // raised the model's per-page cost reproduces those rows too.
        ArchProfile raised = x86 with { Flush = new X86IpiFlush { SinglePageFlushCeiling = 35 } };
        Assert.InRange(ModelCycles(Flush(raised, 1, 34).InitiatorLatencyNs) / 10977.0, 0.85, 1.15);
        Assert.InRange(ModelCycles(Flush(raised, 1, 35).InitiatorLatencyNs) / 11400.0, 0.85, 1.15);
        Assert.True(Flush(raised, 1, 36).FullFlush);
    }

    [Theory]
    [InlineData(1, 661)]
    [InlineData(2, 1436)]
    [InlineData(4, 1571)]
    public void F2_initiator_latency_for_0_1_3_remote_cpus_within_20_percent(int cpus, double measuredNs)
    {
        FlushOutcome o = Flush(ArchProfile.For(ArchKind.X86_64), cpus, 1);
        Assert.Equal(cpus - 1, o.IpiCallbacks);
        double model = o.InitiatorLatencyNs + AmitFaultAndSyscallNs;
        Assert.InRange(model / measuredNs, 0.8, 1.2);
    }

    [Fact]
    public void F2_latency_grows_with_remote_targets()
    {
        long previous = 0;
        foreach (int cpus in new[] { 1, 2, 4, 64, 256 })
        {
            long latency = Flush(ArchProfile.For(ArchKind.X86_64), cpus, 1).InitiatorLatencyNs;
            Assert.True(latency > previous, $"{cpus} cpus: {latency} <= {previous}");
            previous = latency;
        }
    }

    [Fact]
    public void F4_arm64_per_page_tlbi_is_linear_in_pages()
    {
        // Ye measured up to 512 pages per page; the kernel switches to TLBI VMALLE1IS at
        // MAX_DVM_OPS = 512, so the shape is checked with the threshold raised.
        ArchProfile arm = ArchProfile.For(ArchKind.Arm64) with { Flush = new Arm64TlbiFlush { HasTlbiRange = false, MaxDvmOps = 1024 } };
        foreach ((int pages, double classic, _) in s_f4)
        {
            FlushOutcome o = Flush(arm, 4, pages);
            Assert.False(o.FullFlush);
            Assert.Equal(0, o.IpiCallbacks);
            Assert.Equal(pages, o.InvalidationOps);
            Assert.InRange(o.InitiatorLatencyNs / (classic * Arm64NsPerUnit), 0.85, 1.15);
        }

        // Linear: equal increments per page across the table.
        long at256 = Flush(arm, 4, 256).InitiatorLatencyNs;
        long at512 = Flush(arm, 4, 512).InitiatorLatencyNs;
        Assert.Equal(256 * CostProfile.Default(ArchKind.Arm64).TlbiPageNs, at512 - at256);
        Assert.True(Flush(ArchProfile.For(ArchKind.Arm64), 4, 512).FullFlush);
    }

    [Fact]
    public void F4_arm64_range_tlbi_is_flat()
    {
        ArchProfile arm = ArchProfile.For(ArchKind.Arm64Bbml2);
        long min = long.MaxValue, max = 0;
        foreach ((int pages, _, double range) in s_f4)
        {
            FlushOutcome o = Flush(arm, 4, pages);
            Assert.False(o.FullFlush);
            Assert.InRange(o.InitiatorLatencyNs / (range * Arm64NsPerUnit), 0.85, 1.15);
            min = Math.Min(min, o.InitiatorLatencyNs);
            max = Math.Max(max, o.InitiatorLatencyNs);
        }

        Assert.True(max <= min * 1.05, $"range TLBI cost not flat: {min}..{max} ns");
    }
}
