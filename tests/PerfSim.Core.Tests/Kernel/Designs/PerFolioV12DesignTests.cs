using PerfSim.Core.Events;
using PerfSim.Core.Kernel;

namespace PerfSim.Core.Tests.Kernel.Designs;

/// <summary>The tests of one design record, <see cref="PerFolioV12Design"/>: what it changes against
/// v9–v11 (the prepare after the zap) and what it keeps (one zap and flush per folio, restore in
/// free_folio). The shared rules (locality, registry) are in <see cref="DesignsTests"/>.</summary>
public sealed class PerFolioV12DesignTests
{
    [Fact]
    public void V12_prepares_after_the_zap_so_its_zap_comes_one_prepare_earlier_at_the_same_cost()
    {
        Fault v11 = FirstFault(Strategy.PerFolio);
        Fault v12 = FirstFault(Strategy.PerFolioV12);

        Assert.True(v11.PrepareNs > 0);
        Assert.Equal(v11.ZapAtNs - v11.PrepareNs, v12.ZapAtNs);
        Assert.Equal(v11.LatencyNs, v12.LatencyNs);
    }

    [Fact]
    public void A_user_fault_skips_the_prepare_in_v12_too()
    {
        Fault kernelFault = FirstFault(Strategy.PerFolioV12);
        Fault userFault = FirstFault(Strategy.PerFolioV12, user: true);

        Assert.Equal(kernelFault.ZapAtNs, userFault.ZapAtNs + kernelFault.EntryDifferenceNs);
    }

    [Fact]
    public void V12_zaps_and_flushes_each_folio_once_and_restores_it_when_freed()
    {
        using SimKernel k = KernelFixture.Create(Strategy.PerFolioV12);
        KernelFile f = KernelFixture.Gmem(k, 64);
        for (int round = 0; round < 2; round++)
        {
            for (int i = 0; i < 64; i++)
            {
                Assert.True(k.GmemGetPfn(i % 4, f, i).Ok);
            }
        }

        Assert.Equal(64, k.TotalCounters().DirectMapZaps);
        Assert.Equal(64, k.Flush.TotalCounters().KernelRangeFlushes);
        Assert.Equal(64, k.GmemPunchHole(0, f, 0, 64));
        Assert.Equal(64, k.TotalCounters().DirectMapRestores);
        Assert.Equal(0, k.Checker.Total);
        KernelFixture.AssertConserved(k, 0);
    }

    /// <summary>The first fault of a file whose region is already split: when (since the fault
    /// began) its zap was traced, the fault's latency, the prepare's cost, and how much more a
    /// guest fault's entry costs than a user fault's.</summary>
    private static Fault FirstFault(Strategy strategy, bool user = false)
    {
        using SimKernel k = KernelFixture.Create(strategy);
        KernelFile f = KernelFixture.Gmem(k, 1024);
        Assert.True(k.GmemGetPfn(0, f, 0).Ok); // splits the region: later zaps are one PTE write
        var sink = new ZapTimes();
        k.EventSink = sink;
        long start = k.Clock(0);
        PathResult r = user ? k.GmemUserFault(0, f, 1) : k.GmemGetPfn(0, f, 1);
        Assert.True(r.Ok);
        return new Fault(Assert.Single(sink.Times) - start, r.LatencyNs, k.Costs.GmemPrepareNs, k.Costs.VmExitRoundTripNs + k.Costs.GuestFaultBaseNs - k.Costs.UserFaultBaseNs);
    }

    private readonly record struct Fault(long ZapAtNs, long LatencyNs, long PrepareNs, long EntryDifferenceNs);

    private sealed class ZapTimes : ISimEventSink
    {
        public List<long> Times { get; } = [];

        public void Emit(in SimEvent e)
        {
            if (e.Kind == SimEventKind.DirectMapZap)
            {
                Times.Add(e.TimeNs);
            }
        }
    }
}
