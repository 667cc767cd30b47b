using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Flush;
using PerfSim.Core.Kernel;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Tests.Kernel;

/// <summary>What a kernel flush costs its initiator once the other CPUs are in the picture, outside
/// quantum mode (the immediate timeline): the call queue on x86, the invalidation channel elsewhere.</summary>
public sealed class CrossCpuFlushTests
{
    [Theory]
    [InlineData(ArchKind.Arm64)]
    [InlineData(ArchKind.X86_64Invlpgb)]
    public void Broadcasts_issued_at_once_queue_in_the_invalidation_channel(ArchKind arch)
    {
        using SimKernel k = KernelFixture.Create(Strategy.None, cpus: 4, arch: arch);
        FlushOutcome alone = k.Flush.FlushKernelRange(3, 1 << 20, 1, 0);
        Assert.True(alone.ChannelNs > 0, "a broadcast occupies the channel");

        k.FlushRange(0, 1 << 20, 1, FlushEngine.NotZapped);
        k.FlushRange(1, 3 << 18, 1, FlushEngine.NotZapped);

        // Both started at 0; CPU 1's invalidations waited behind CPU 0's (no hand-off: not a lock).
        Assert.Equal(alone.InitiatorLatencyNs, k.Clock(0));
        Assert.Equal(alone.InitiatorLatencyNs + alone.ChannelNs, k.Clock(1));
        Assert.Equal(0, k.Host.TotalCounters().IpisSent);
    }

    [Fact]
    public void An_x86_flush_waits_for_its_slowest_target_and_its_ipis_interrupt_the_others()
    {
        using SimKernel k = KernelFixture.Create(Strategy.None, cpus: 4);
        k.Host.Assign([CpuRole.Host, CpuRole.Vcpu, CpuRole.Host, CpuRole.Idle], [true, true, true, false]);

        k.FlushRange(0, 1 << 20, 1, FlushEngine.NotZapped);

        CpuCallCounters calls = k.Host.TotalCounters();
        Assert.Equal((3L, 3L, 1L, 1L), (calls.IpisSent, calls.Callbacks, calls.VmExits, calls.WakeupsC6));
        // The idle CPU's C6 exit (133 µs) sets the initiator's wait; the vCPU lost its exit, entry and handler.
        Assert.InRange(k.Clock(0), 133_000, 140_000);
        Assert.Equal(k.Costs.GuestExitAndEntryNs + k.Costs.IpiHandlerNs + k.Costs.InvlpgNs, k.Clock(1));
        Assert.Equal(k.Costs.IpiHandlerNs + k.Costs.InvlpgNs, k.Clock(2));
        Assert.Equal(0, k.Clock(3));
    }

    [Fact]
    public void After_a_full_flush_every_cpu_that_was_running_host_code_refills_its_tlb()
    {
        using SimKernel k = KernelFixture.Create(Strategy.None, cpus: 4);
        k.Host.Assign([CpuRole.Host, CpuRole.Host, CpuRole.Vcpu, CpuRole.Idle], [true, true, true, false]);

        k.FlushRange(0, 1 << 20, 34, FlushEngine.NotZapped); // past the ceiling of 33: a full flush

        long handler = k.Costs.IpiHandlerNs + k.Costs.FullFlushNs;
        Assert.Equal(handler + k.Costs.TlbRefillNs, k.Clock(1));
        // The vCPU was in guest mode: its translations are tagged (VPID), a host flush leaves them.
        Assert.Equal(k.Costs.GuestExitAndEntryNs + handler, k.Clock(2));
        Assert.Equal(0, k.Clock(3));
        Assert.True(k.Clock(0) > k.Costs.TlbRefillNs + 133_000, "the initiator waited for the idle CPU, then refilled");
    }

    /// <summary>arch/x86/mm/pat/set_memory.c <c>split_large_page</c>: <c>spin_unlock(&amp;cpa_lock)</c>
    /// around <c>alloc_pages</c>. A CPU that asks for the lock while another allocates its page
    /// table gets it at once (woven in simulated-time order).</summary>
    [Fact]
    public void A_split_allocates_its_page_table_outside_cpa_lock()
    {
        CostProfile costs = CostProfile.Default(ArchKind.X86_64) with { PageTableAllocNs = 1_000_000 };
        using SimKernel k = PageCacheLockTests.Create(costs);
        const long Pfn = 1 << 19; // in a 1 GiB region the boot mapped with a large page
        using (k.BeginQuanta(new NoLatencies()))
        {
            Assert.Equal(0, k.SetPageValid(0, Pfn, valid: false)); // splits, its allocation takes 1 ms
            Assert.Equal(0, k.SetPageValid(1, Pfn + 1, valid: false)); // same region, split already, at time 0
        }

        Assert.True(k.DirectMap.Level2Splits + k.DirectMap.Level3Splits > 0);
        Assert.Equal((2L, 0L), (k.CpaLock.Acquisitions, k.CpaLock.Contended));
        Assert.True(k.Clock(0) >= 1_000_000);
    }

    private sealed class NoLatencies : ILatencySink
    {
        public void Record(int cpu, int histogram, long serviceNs, long elapsedNs)
        {
        }
    }
}
