using PerfSim.Core.Costs;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Tests.Timeline;

/// <summary>
/// <see cref="HostCpus"/> (groups of CPUs without actors, states as arrays priced a vector at a
/// time) against a reference that applies kernel/smp.c's queue rule to every CPU on its own, one
/// by one: random hosts, roles, idle policies, APIC modes, cpumasks (which split groups), host
/// paths and refills must give the same rounds, losses and counters.
/// </summary>
/// <remarks>Initiators are CPUs with actors, as in the engine (an actor's path sends every flush):
/// a CPU without one shares its group's state, so its own sends would move its targets' state too.</remarks>
public sealed class HostCpusOracleTests
{
    private static readonly CostProfile s_costs = new();

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Every_round_equals_the_per_cpu_reference(int seed)
    {
        var random = new Random(seed);
        int cpus = random.Next(2, 72);
        CpuRole[] roles = [.. Enumerable.Range(0, cpus).Select(_ => (CpuRole)random.Next(3))];
        bool[] hasActor = [.. Enumerable.Range(0, cpus).Select(_ => random.Next(3) > 0)];
        hasActor[random.Next(cpus)] = true;
        int[] actors = [.. Enumerable.Range(0, cpus).Where(c => hasActor[c])];
        var policy = (IdlePolicy)random.Next(3);
        var mode = (X2ApicMode)random.Next(2);

        var host = new HostCpus(cpus, s_costs) { Idle = policy, ApicMode = mode };
        host.Assign(roles, hasActor);
        var reference = new ReferenceCpus(roles, policy, mode);
        var lost = new LostPerCpu(cpus);

        long now = 0;
        for (int step = 0; step < 400; step++)
        {
            int cpu = actors[random.Next(actors.Length)];
            if (random.Next(4) == 0)
            {
                bool inPath = random.Next(2) == 0;
                host.SetInPath(cpu, inPath);
                reference.InPath[cpu] = inPath;
                continue;
            }

            // Bursts (sends closer than a handler: queued callbacks) and gaps (idle intervals long enough for deep states).
            now += random.Next(4) == 0 ? random.Next(0, 2_000_000) : random.Next(0, 1_500);
            long callbackNs = random.Next(20, 400);
            bool refill = random.Next(5) == 0;
            int[] targets = random.Next(3) == 0
                ? [.. Enumerable.Range(0, cpus).Where(_ => random.Next(2) == 0)]
                : [.. Enumerable.Range(0, cpus)];
            int mask = targets.Length == cpus ? HostCpus.AllOthers : host.MaskId(targets);

            lost.Clear();
            CallRound round = host.CallFunctionMany(cpu, now, callbackNs, lost, mask, refill);
            (CallRound expected, long[] expectedLost) = reference.Call(cpu, now, callbackNs, targets, refill ? s_costs.TlbRefillNs : 0);

            Assert.Equal(expected, round);
            foreach (int a in actors)
            {
                Assert.True(expectedLost[a] == lost.Ns[a], $"seed {seed} step {step}: CPU {a} lost {lost.Ns[a]}, reference {expectedLost[a]}");
            }

            Assert.Equal(reference.Counters, host.TotalCounters());
        }
    }

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 40)];

    private sealed class LostPerCpu(int cpus) : IInterruptSink
    {
        public long[] Ns { get; } = new long[cpus];

        public void Clear() => Array.Clear(Ns);

        public void Interrupted(ReadOnlySpan<int> cpus, ReadOnlySpan<long> ns)
        {
            for (int i = 0; i < cpus.Length; i++)
            {
                Ns[cpus[i]] += ns[i];
            }
        }
    }

    /// <summary>The queue rule of kernel/smp.c and the prices by state, per CPU, written plainly.</summary>
    private sealed class ReferenceCpus(CpuRole[] roles, IdlePolicy policy, X2ApicMode mode)
    {
        private readonly long[] _drainStart = new long[roles.Length];
        private readonly long[] _drainEnd = new long[roles.Length];
        private readonly long[] _guestResume = new long[roles.Length];
        private readonly long[] _idleSince = new long[roles.Length];
        private readonly List<long>[] _intervals = [.. roles.Select(_ => new List<long>())];

        public bool[] InPath { get; } = new bool[roles.Length];

        public CpuCallCounters Counters;

        public (CallRound Round, long[] Lost) Call(int initiator, long send, long callback, int[] mask, long refill)
        {
            int[] targets = [.. mask.Where(c => c != initiator)];
            var lost = new long[roles.Length];
            if (targets.Length == 0)
            {
                return (new CallRound(0, 0, send), lost);
            }

            // llist_add: an IPI only to a queue that was empty (its last handler already took it).
            int[] sent = [.. targets.Where(c => send >= _drainStart[c])];
            int writes = mode == X2ApicMode.Physical ? sent.Length : sent.Select(c => c / HostCpus.ClusterCpus).Distinct().Count();
            long arrival = send + (writes == 0 ? 0 : s_costs.IpiSendNs + ((writes - 1) * s_costs.IcrWriteNs)) + s_costs.IpiDeliveryNs;
            long latest = send;
            foreach (int c in targets)
            {
                bool guestMode = roles[c] == CpuRole.Vcpu && !InPath[c];
                if (!sent.Contains(c))
                {
                    _drainEnd[c] += callback;
                    lost[c] = roles[c] == CpuRole.Idle ? 0 : callback;
                    if (roles[c] == CpuRole.Vcpu && _guestResume[c] > send)
                    {
                        _guestResume[c] += callback;
                    }
                }
                else
                {
                    long start = arrival;
                    lost[c] = s_costs.IpiHandlerNs + callback;
                    if (roles[c] == CpuRole.Idle)
                    {
                        long idleFor = Math.Max(0, arrival - _idleSince[c]);
                        List<long> seen = _intervals[c];
                        long predicted = seen.Count == 0 ? long.MaxValue : (long)seen.TakeLast(IdleStates.Intervals).Sum() / Math.Min(seen.Count, IdleStates.Intervals);
                        int state = IdleStates.Choose(policy, predicted, idleFor);
                        seen.Add(idleFor);
                        start += IdleStates.ExitNs[state];
                        Counters.AddWakeups(state, 1);
                        lost[c] = 0;
                    }
                    else if (guestMode && arrival >= _guestResume[c])
                    {
                        start += s_costs.GuestExitNs;
                        lost[c] += s_costs.GuestExitAndEntryNs;
                        Counters.VmExits++;
                    }

                    start = Math.Max(start, _drainEnd[c]);
                    _drainStart[c] = start;
                    _drainEnd[c] = start + s_costs.IpiHandlerNs + callback;
                    if (guestMode)
                    {
                        _guestResume[c] = _drainEnd[c] + (s_costs.GuestExitAndEntryNs - s_costs.GuestExitNs);
                    }
                    else if (roles[c] == CpuRole.Idle)
                    {
                        _idleSince[c] = _drainEnd[c];
                    }
                }

                latest = Math.Max(latest, _drainEnd[c]);
                if (roles[c] != CpuRole.Idle && !guestMode)
                {
                    lost[c] += refill;
                }
            }

            Counters.IpisSent += sent.Length;
            Counters.Callbacks += targets.Length;
            return (new CallRound(sent.Length, targets.Length, latest + ((targets.Length - 1) * s_costs.AckWaitPerExtraTargetNs)), lost);
        }
    }
}
