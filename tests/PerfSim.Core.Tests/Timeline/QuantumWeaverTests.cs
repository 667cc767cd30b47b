using PerfSim.Core.Events;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Tests.Timeline;

/// <summary>The weave on canned logs, without a kernel: lock order across CPUs in simulated time,
/// waits moving a CPU's later entries, latencies with their waits, events in time order, carry.</summary>
public sealed class QuantumWeaverTests
{
    private const long Hold = 50;
    private const long Handoff = 5;

    [Fact]
    public void The_later_request_for_a_lock_waits_for_the_earlier_and_its_latency_includes_the_wait()
    {
        var weaver = new QuantumWeaver(2, new SimLockTable(), Host(2));
        var latencies = new Latencies();
        weaver.Latencies = latencies;
        // CPU 1 logs first, but asks for cpa_lock later in simulated time (120 vs 100).
        Path(weaver, cpu: 1, lockAt: 120, latencyAt: 170);
        Path(weaver, cpu: 0, lockAt: 100, latencyAt: 150);

        weaver.Close(1_000);
        weaver.WeaveClosed();

        long wait = 100 + Hold - 120 + Handoff;
        SimLock cpa = weaver.Locks[SimLockTable.CpaLock];
        Assert.Equal((2L, 1L, wait), (cpa.Acquisitions, cpa.Contended, cpa.WaitNs));
        Assert.Equal([(0, 150L), (1, 170 + wait)], latencies.Seen.OrderBy(s => s.Cpu));
        Assert.Equal(0, weaver.Settle(0, out long cpu0Wait));
        Assert.Equal(0, cpu0Wait);
        Assert.Equal(wait, weaver.Settle(1, out long cpu1Wait));
        Assert.Equal(wait, cpu1Wait);
    }

    [Fact]
    public void Events_reach_the_sink_in_simulated_time_order_with_stamps_moved_by_earlier_waits()
    {
        var weaver = new QuantumWeaver(2, new SimLockTable(), Host(2));
        var events = new Events();
        weaver.Events = events;
        Path(weaver, cpu: 0, lockAt: 100, latencyAt: 150);
        Path(weaver, cpu: 1, lockAt: 120, latencyAt: 170);
        Event(weaver, cpu: 1, at: 180, pfn: 11); // behind CPU 1's wait of 35 ns: 215
        Event(weaver, cpu: 0, at: 200, pfn: 10);

        weaver.Close(1_000);
        weaver.WeaveClosed();

        Assert.Equal([(0, 200L, 10L), (1, 215L, 11L)], events.Seen);
    }

    [Fact]
    public void Entries_beyond_the_quantum_wait_for_a_later_weave_and_keep_their_delays()
    {
        var weaver = new QuantumWeaver(2, new SimLockTable(), Host(2));
        var latencies = new Latencies();
        weaver.Latencies = latencies;
        Path(weaver, cpu: 0, lockAt: 100, latencyAt: 150);
        Path(weaver, cpu: 1, lockAt: 120, latencyAt: 170);
        Event(weaver, cpu: 1, at: 990, pfn: 1); // 990 + 35 ns of wait: beyond 1000

        var events = new Events();
        weaver.Events = events;
        weaver.Close(1_000);
        weaver.WeaveClosed();
        Assert.Empty(events.Seen);
        Assert.Equal(2, latencies.Seen.Count);

        // A quantum cannot close before the one before it is woven.
        weaver.Close(2_000);
        Assert.Throws<InvalidOperationException>(() => weaver.Close(3_000));
        weaver.WeaveClosed();
        Assert.Equal([(1, 1_025L, 1L)], events.Seen);
    }

    [Fact]
    public void A_cross_call_lands_in_time_order_inside_the_path_it_interrupts_and_delays_the_initiator_until_its_targets_ran()
    {
        var costs = new PerfSim.Core.Costs.CostProfile();
        var host = new HostCpus(3, costs);
        host.Assign([CpuRole.Host, CpuRole.Vcpu, CpuRole.Vcpu], [true, true, true]);
        var weaver = new QuantumWeaver(3, new SimLockTable(), host);
        var latencies = new Latencies();
        weaver.Latencies = latencies;
        // CPU 0 flushes at 1,000 (callback 98 ns on each target; it charged itself 415 ns locally).
        weaver.Logs[0].Add(new QuantumEntry(QuantumKind.Enter, 900, 0, 0, 0));
        weaver.Logs[0].Add(new QuantumEntry(QuantumKind.CrossCall, 1_000, 98, 415, 0));
        weaver.Logs[0].Add(new QuantumEntry(QuantumKind.Latency, 1_415, 515, 0, 0));
        // CPU 1 is inside a fault from 500 to 3,000: the interrupt is part of its latency.
        weaver.Logs[1].Add(new QuantumEntry(QuantumKind.Enter, 500, 0, 0, 0));
        weaver.Logs[1].Add(new QuantumEntry(QuantumKind.Latency, 3_000, 2_500, 0, 0));
        // CPU 2 is in guest mode until its fault at 5,000: the exit is the guest's loss, not the fault's.
        weaver.Logs[2].Add(new QuantumEntry(QuantumKind.Enter, 5_000, 0, 0, 0));
        weaver.Logs[2].Add(new QuantumEntry(QuantumKind.Latency, 6_000, 1_000, 0, 0));

        weaver.Close(100_000);
        weaver.WeaveClosed();

        long handler = costs.IpiHandlerNs + 98;
        long guestLoss = costs.GuestExitAndEntryNs + handler;
        long done = Math.Max(1_000 + costs.IpiSendNs + costs.IpiDeliveryNs + handler, 1_000 + costs.IpiSendNs + costs.IpiDeliveryNs + costs.GuestExitNs + handler) + costs.AckWaitPerExtraTargetNs;
        long initiatorWait = done - (1_000 + 415);
        Assert.Equal([(0, 515 + initiatorWait), (1, 2_500 + handler), (2, 1_000L)], latencies.Seen.OrderBy(s => s.Cpu));
        Assert.Equal(initiatorWait, weaver.Settle(0, out _));
        Assert.Equal(handler, weaver.Settle(1, out _));
        Assert.Equal(guestLoss, weaver.Settle(2, out _));
    }

    /// <summary>A path on <paramref name="cpu"/>: its entry, one <c>cpa_lock</c> hold, its latency
    /// (as long as the time since 0, before any wait).</summary>
    private static void Path(QuantumWeaver weaver, int cpu, long lockAt, long latencyAt)
    {
        QuantumLog log = weaver.Logs[cpu];
        log.Add(new QuantumEntry(QuantumKind.Enter, 0, 0, 0, 0));
        log.Add(new QuantumEntry(QuantumKind.Lock, lockAt, Hold, Handoff, SimLockTable.CpaLock));
        log.Add(new QuantumEntry(QuantumKind.Latency, latencyAt, latencyAt, 0, 0));
    }

    private static HostCpus Host(int cpus) => new(cpus, new PerfSim.Core.Costs.CostProfile());

    private static void Event(QuantumWeaver weaver, int cpu, long at, long pfn) =>
        weaver.Logs[cpu].Add(new QuantumEntry(QuantumKind.Event, at, pfn, 0, (int)SimEventKind.DirectMapZap));

    private sealed class Latencies : ILatencySink
    {
        public List<(int Cpu, long Ns)> Seen { get; } = [];

        public void Record(int cpu, int histogram, long serviceNs, long elapsedNs) => Seen.Add((cpu, elapsedNs));
    }

    private sealed class Events : ISimEventSink
    {
        public List<(int Cpu, long TimeNs, long Pfn)> Seen { get; } = [];

        public void Emit(in SimEvent e) => Seen.Add((e.Cpu, e.TimeNs, e.Pfn));
    }
}
