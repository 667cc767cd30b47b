using PerfSim.Core.Arch;
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
}
