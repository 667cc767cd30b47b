using PerfSim.Core.Costs;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Tests.Timeline;

/// <summary>The two timelines a kernel path reports to agree: what the immediate one applies at
/// once, the logged one leaves to the weave, which finds the same waits, delays and latencies.</summary>
public sealed class OrderedEffectsTests
{
    private static readonly CostProfile s_costs = new();

    /// <summary>CPU 0's path holds cpa_lock from 0 to 50 and ends; CPU 1's asks for it at 10,
    /// waits, holds it, then flushes: a cross call to CPU 0 (98 ns callbacks, 415 ns local part).
    /// The immediate timeline is given the calls in time order, as the kernel's single steps are.</summary>
    private static (long[] Clocks, List<(int Cpu, long Service, long Elapsed)> Latencies, SimLock Cpa, CpuCallCounters Calls) Run(bool logged)
    {
        var clocks = new CpuClocks(2);
        var locks = new SimLockTable();
        var host = new HostCpus(2, s_costs);
        host.Assign([CpuRole.Host, CpuRole.Host], [true, true]);
        var latencies = new Latencies();
        var weaver = new QuantumWeaver(2, locks, host) { Latencies = latencies };
        OrderedEffects effects = logged ? new LoggedEffects(clocks, weaver.Logs) : new ImmediateEffects(clocks, locks, host);

        effects.Enter(0);
        effects.Hold(0, effects.Mark(0), SimLockTable.CpaLock, 50, 5);
        effects.Latency(0, 0, clocks[0], latencies);

        clocks[1] = 10;
        effects.Enter(1);
        effects.Hold(1, effects.Mark(1), SimLockTable.CpaLock, 50, 5);
        long send = clocks[1];
        long wait = effects.CrossCall(1, send, 98, 415, HostCpus.AllOthers, refill: false);
        clocks[1] += 415 + wait;
        effects.Latency(1, 0, clocks[1] - 10, latencies);

        if (logged)
        {
            weaver.Close(1_000_000);
            weaver.WeaveClosed();
            for (int cpu = 0; cpu < 2; cpu++)
            {
                clocks[cpu] += weaver.Settle(cpu, out _);
            }
        }

        return ([clocks[0], clocks[1]], [.. latencies.Seen.OrderBy(l => l.Cpu)], locks[SimLockTable.CpaLock], host.TotalCounters());
    }

    [Fact]
    public void The_weave_finds_what_the_immediate_timeline_applies_at_once()
    {
        var immediate = Run(logged: false);
        var woven = Run(logged: true);

        // CPU 1 waited for cpa_lock (50 − 10 + 5 ns), then CPU 0 took its IPI: the same in both.
        Assert.Equal((2L, 1L, 45L), (immediate.Cpa.Acquisitions, immediate.Cpa.Contended, immediate.Cpa.WaitNs));
        Assert.Equal((immediate.Cpa.Contended, immediate.Cpa.WaitNs), (woven.Cpa.Contended, woven.Cpa.WaitNs));
        Assert.Equal((1L, 1L), (woven.Calls.IpisSent, woven.Calls.Callbacks));
        Assert.Equal(immediate.Calls, woven.Calls);
        Assert.Equal(immediate.Clocks, woven.Clocks);
        Assert.Equal(50 + s_costs.IpiHandlerNs + 98, woven.Clocks[0]);

        // Elapsed latencies agree; the woven timeline also keeps each path's own work apart.
        Assert.Equal(immediate.Latencies.Select(l => l.Elapsed), woven.Latencies.Select(l => l.Elapsed));
        Assert.Equal([50L, 50 + 415], woven.Latencies.Select(l => l.Service));
    }

    private sealed class Latencies : ILatencySink
    {
        public List<(int Cpu, long Service, long Elapsed)> Seen { get; } = [];

        public void Record(int cpu, int histogram, long serviceNs, long elapsedNs) => Seen.Add((cpu, serviceNs, elapsedNs));
    }
}
