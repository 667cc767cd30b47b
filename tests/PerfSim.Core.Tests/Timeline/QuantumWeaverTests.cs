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
    public void A_cpu_that_first_logs_after_many_quanta_joins_the_span_and_settles_each_weave_when_due()
    {
        // Depth 2, as the engine runs: each close settles, for the CPUs in the span, the weave two
        // quanta back, while later weaves may be done already (here: all of them). CPU 2 logs
        // nothing for more quanta than a lane has settle slots, so it is out of the span until
        // then; its settling starts at its first weave (a catch-up from weave 0 would take that
        // weave's delay, in the slot it shares with weave 2, two closes early).
        var weaver = new QuantumWeaver(3, new SimLockTable(), Host(3), depth: 2);
        long clock2 = 0;
        var clock2AtClose = new List<long>();
        for (int q = 0; q < 9; q++)
        {
            long start = q * 1_000L;
            weaver.Logs[0].Add(new QuantumEntry(QuantumKind.Lock, start + 100, 500, 30, SimLockTable.CpaLock));
            if (q == 6)
            {
                weaver.Logs[2].Add(new QuantumEntry(QuantumKind.Lock, clock2 + start + 120, 200, 30, SimLockTable.CpaLock));
            }

            weaver.Close(start + 1_000);
            Assert.Equal(q < 6 ? 1 : 3, weaver.Span);
            while (weaver.HasClosed)
            {
                weaver.WeaveClosed();
            }

            int due = weaver.Closes - weaver.Depth;
            for (int c = 0; c < weaver.Span && due > 0; c++)
            {
                long delay = weaver.Settle(c, due, out _);
                Assert.Equal(0, c == 2 ? 0 : delay);
                clock2 += c == 2 ? delay : 0;
            }

            clock2AtClose.Add(clock2);
        }

        // CPU 2 asks at 6,120 while CPU 0 holds cpa_lock from 6,100 to 6,600: 510 ns, woven in
        // weave 6 and due at the close of quantum 8.
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 0, 510], clock2AtClose);
        Assert.Equal(0, weaver.Settle(2, out _));
        Assert.Equal(0, weaver.Settle(1, out _));
    }

    [Fact]
    public void With_depth_two_a_quantum_closes_while_the_one_before_waits_and_a_settle_takes_only_the_weaves_asked_for()
    {
        var weaver = new QuantumWeaver(2, new SimLockTable(), Host(2), depth: 2);
        weaver.Logs[0].Add(new QuantumEntry(QuantumKind.Lock, 100, 500, 30, SimLockTable.CpaLock));
        weaver.Logs[1].Add(new QuantumEntry(QuantumKind.Lock, 120, 500, 30, SimLockTable.CpaLock));
        weaver.Close(1_000);
        weaver.Logs[0].Add(new QuantumEntry(QuantumKind.Lock, 1_100, 1_000, 30, SimLockTable.CpaLock));
        weaver.Logs[1].Add(new QuantumEntry(QuantumKind.Lock, 1_120, 500, 30, SimLockTable.CpaLock));
        weaver.Close(2_000);
        Assert.Throws<InvalidOperationException>(() => weaver.Close(3_000));
        Assert.Throws<InvalidOperationException>(() => weaver.Settle(1, 1, out _));

        // CPU 1 waits behind CPU 0: 600 + 30 − 120 ns in the first quantum, holding until 1,130.
        // CPU 0's second hold then waits 60 ns (until 1,160) and lasts to 2,160; CPU 1's second
        // entry was logged without its first wait on its clock, so it comes at 1,630 and waits 560.
        weaver.WeaveClosed();
        weaver.WeaveClosed();
        Assert.Equal(2, weaver.Weaves);
        Assert.Equal(510, weaver.Settle(1, 1, out long firstWait));
        Assert.Equal(510, firstWait);
        Assert.Equal(560, weaver.Settle(1, 2, out _));
        Assert.Equal(0, weaver.Settle(1, 2, out _));
        Assert.Equal(60, weaver.Settle(0, out _));
    }

    [Fact]
    public void A_cross_call_lands_in_time_order_inside_the_path_it_interrupts_and_delays_the_initiator_until_its_targets_ran()
    {
        var costs = new PerfSim.Core.Costs.CostProfile();
        (QuantumWeaver weaver, Latencies latencies) = WeaverOf(costs, CpuRole.Host, CpuRole.Vcpu, CpuRole.Vcpu);
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

    [Fact]
    public void An_entry_logged_before_its_cpus_later_latency_but_earlier_in_time_still_comes_after_it()
    {
        // CPU 0's lock request (200) is logged after a latency at 1,500: a CPU's entries go in its
        // own order, so the request counts at 1,500, after CPU 1's request at 1,000, and waits for it.
        var weaver = new QuantumWeaver(2, new SimLockTable(), Host(2));
        weaver.Logs[0].Add(new QuantumEntry(QuantumKind.Enter, 0, 0, 0, 0));
        weaver.Logs[0].Add(new QuantumEntry(QuantumKind.Latency, 1_500, 1_500, 0, 0));
        weaver.Logs[0].Insert(2, new QuantumEntry(QuantumKind.Lock, 200, Hold, Handoff, SimLockTable.CpaLock));
        weaver.Logs[1].Add(new QuantumEntry(QuantumKind.Lock, 1_000, Hold, Handoff, SimLockTable.CpaLock));

        weaver.Close(10_000);
        weaver.WeaveClosed();

        Assert.Equal(1_000 + Hold + Handoff - 200, weaver.Settle(0, out _));
        Assert.Equal(0, weaver.Settle(1, out _));
    }

    [Fact]
    public void A_path_entry_is_not_applied_before_a_cross_call_its_cpus_earlier_entries_come_after()
    {
        // CPU 1 ends a fault at 2,000 and logs its next fault's entry at 500 (out of time order):
        // the entry counts at 2,000, so CPU 0's flush at 1,000 lands inside the first fault (its
        // latency has the handler in it) and not in the second.
        var costs = new PerfSim.Core.Costs.CostProfile();
        (QuantumWeaver weaver, Latencies latencies) = WeaverOf(costs, CpuRole.Vcpu, CpuRole.Vcpu);
        weaver.Logs[0].Add(new QuantumEntry(QuantumKind.CrossCall, 1_000, 98, 415, 0));
        weaver.Logs[1].Add(new QuantumEntry(QuantumKind.Enter, 0, 0, 0, 0));
        weaver.Logs[1].Add(new QuantumEntry(QuantumKind.Latency, 2_000, 2_000, 0, 0));
        weaver.Logs[1].Insert(2, new QuantumEntry(QuantumKind.Enter, 500, 0, 0, 0));
        weaver.Logs[1].Add(new QuantumEntry(QuantumKind.Latency, 3_000, 1_000, 0, 0));

        weaver.Close(100_000);
        weaver.WeaveClosed();

        long handler = costs.IpiHandlerNs + 98;
        Assert.Equal([(1, 2_000 + handler), (1, 1_000L)], latencies.Seen);
    }

    [Theory]
    [InlineData(10, false)]
    [InlineData(82, true)]
    public void Interrupts_to_runs_of_consecutive_cpus_land_as_they_do_one_cpu_at_a_time(int cpuCount, bool lastTakesTheLockFirst)
    {
        // Every CPU but CPU 5: CPUs 0-3 take a vector step, CPU 4 a scalar one, then runs of four
        // again; one call per CPU takes the scalar path throughout. The CPU that took cpa_lock
        // (taken with interrupts on) first still holds it when they land, so its hold grows too:
        // CPU 0, or with 82 CPUs the last, in a vector step past the first 64 CPUs listed.
        int[] cpus = [.. Enumerable.Range(0, cpuCount).Where(c => c != 5)];
        long[] lost = [.. cpus.Select(c => 100L * (c + 1))];
        int holder = lastTakesTheLockFirst ? cpuCount - 1 : 0;
        (long[] Settled, long FreeAt) Run(bool together)
        {
            var weaver = new QuantumWeaver(cpuCount, new SimLockTable(), Host(cpuCount));
            for (int c = 0; c < cpuCount; c++)
            {
                long at = 100 * (lastTakesTheLockFirst ? cpuCount - c : c + 1);
                weaver.Logs[c].Add(new QuantumEntry(QuantumKind.Lock, at, 10_000, Handoff, SimLockTable.CpaLock));
            }

            weaver.Close(1_000_000);
            weaver.WeaveClosed();
            IInterruptSink sink = weaver;
            if (together)
            {
                sink.Interrupted(cpus, lost);
            }
            else
            {
                for (int i = 0; i < cpus.Length; i++)
                {
                    sink.Interrupted(cpus.AsSpan(i, 1), lost.AsSpan(i, 1));
                }
            }

            weaver.Close(2_000_000);
            weaver.WeaveClosed();
            return ([.. Enumerable.Range(0, cpuCount).Select(c => weaver.Settle(c, out _))], weaver.Locks[SimLockTable.CpaLock].FreeAtNs);
        }

        (long[] vector, long vectorFreeAt) = Run(together: true);
        (long[] scalar, long scalarFreeAt) = Run(together: false);

        Assert.Equal(scalar, vector);
        Assert.Equal(scalarFreeAt, vectorFreeAt);
        long holderLost = 100L * (holder + 1);
        Assert.Equal(holderLost, vector[holder]);
        // The holds back to back from 100 ns, the last released the holder's interrupt later.
        Assert.Equal(100 + (cpuCount * 10_000) + ((cpuCount - 1) * Handoff) + holderLost, vectorFreeAt);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    public void Weaving_in_short_quanta_with_the_logs_written_quantum_by_quantum_changes_nothing_against_one_weave(int seed, int depth)
    {
        // Long holds on shared locks and cross calls make the CPUs lag their logs by many quanta, so
        // entries are carried again and again while new logs arrive (the carry buffer compacts and
        // grows). Each quantum's log is written on the CPU's clock, which has the delays settled so far.
        const int Cpus = 4;
        List<QuantumEntry>[] logs = RandomLogs(seed, Cpus);
        var once = Weave(logs, quantumNs: null);
        var carried = Weave(logs, quantumNs: 1_000, depth);
        Assert.Equal(Cpus * 150, once.Latencies.Count);
        Assert.True(once.Locks[0].Contended > 10, "the test needs contention to make CPUs lag");
        Assert.Equal(once.Events, carried.Events);
        // Each CPU's latencies in its own order (across CPUs the sink hears them in no set order:
        // a path's latency is applied lazily, at the latest before the next cross call).
        Assert.Equal(once.Latencies.OrderBy(l => l.Item1), carried.Latencies.OrderBy(l => l.Item1));
        Assert.Equal(once.Settled, carried.Settled);
        Assert.Equal(once.Locks, carried.Locks);
    }

    /// <summary>A log's first append of a quantum claims, in one run of stores, the lines its last
    /// quantum used (<see cref="QuantumLog"/>): in its own buffer only, never in the closed one the
    /// weave reads, and no further than that count.</summary>
    [Fact]
    public void A_restarted_log_claims_only_the_lines_its_last_quantum_used_and_never_the_closed_buffer()
    {
        var log = new QuantumLog(new EntryBuffers(1));
        for (int i = 0; i < 10; i++)
        {
            log.Add(new QuantumEntry(QuantumKind.Event, i, i, 0, 0));
        }

        QuantumEntry[] closed = log.Entries;
        var sentinel = new QuantumEntry(QuantumKind.Event, 99, 99, 99, 99);
        var next = new QuantumEntry[32];
        Array.Fill(next, sentinel);
        log.Restart(next);
        var first = new QuantumEntry(QuantumKind.Lock, 100, 1, 2, 3);
        log.Add(first);

        Assert.Same(next, log.Entries);
        Assert.Equal(1, log.Count);
        Assert.Equal(first, next[0]);
        Assert.All(next.Skip(1).Take(9), e => Assert.True(e == sentinel || e == default));
        Assert.Contains(default, next.Skip(1).Take(9));
        Assert.All(next.Skip(10), e => Assert.Equal(sentinel, e));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), closed.Take(10).Select(e => e.TimeNs));
    }

    private static List<QuantumEntry>[] RandomLogs(int seed, int cpus)
    {
        var rng = new Random(seed);
        var logs = new List<QuantumEntry>[cpus];
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            List<QuantumEntry> log = logs[cpu] = [];
            long t = 0;
            for (int path = 0; path < 150; path++)
            {
                long start = t;
                log.Add(new QuantumEntry(QuantumKind.Enter, t, 0, 0, 0));
                for (int step = rng.Next(1, 4); step > 0; step--)
                {
                    t += rng.Next(0, 200);
                    switch (rng.Next(3))
                    {
                        case 0:
                            long hold = rng.Next(10, 3_000);
                            log.Add(new QuantumEntry(QuantumKind.Lock, t, hold, Handoff, rng.Next(2) == 0 ? SimLockTable.CpaLock : SimLockTable.SplitLock));
                            t += hold;
                            break;
                        case 1:
                            log.Add(new QuantumEntry(QuantumKind.CrossCall, t, 98, 400, HostCpus.AllOthers));
                            t += 400;
                            break;
                        default:
                            log.Add(new QuantumEntry(QuantumKind.Event, t, (cpu * 1_000) + path, 0, (int)SimEventKind.DirectMapZap));
                            break;
                    }
                }

                t += rng.Next(0, 300);
                log.Add(new QuantumEntry(QuantumKind.Latency, t, t - start, 0, 0));
            }
        }

        return logs;
    }

    /// <summary>A buffer a log or lane outgrew serves the next growth to its size (no fresh
    /// memory), and a growth keeps the live slice, in order, at the start.</summary>
    [Fact]
    public void A_buffer_outgrown_serves_the_next_growth_to_its_size()
    {
        var buffers = new EntryBuffers(2);
        QuantumEntry[] initial = new QuantumEntry[16];
        for (int i = 0; i < initial.Length; i++)
        {
            initial[i] = new QuantumEntry(QuantumKind.Event, i, i, 0, 0);
        }

        QuantumEntry[] grown = buffers.Grow(initial, 4, 12, 32);
        Assert.Equal(32, grown.Length);
        Assert.Equal(initial[4..], grown[..12]);

        QuantumEntry[] larger = buffers.Grow(grown, 0, 32, 64);
        Assert.Equal(64, larger.Length);
        Assert.Equal(initial[4..], larger[..12]);

        // Another CPU's buffer grows to 32: it gets the one outgrown above.
        Assert.Same(grown, buffers.Grow(new QuantumEntry[16], 0, 16, 32));
        Assert.NotSame(grown, buffers.Grow(new QuantumEntry[16], 0, 16, 32));
    }

    /// <summary>A weave of one CPU per role, each running an actor, its latencies heard by the list returned.</summary>
    private static (QuantumWeaver Weaver, Latencies Latencies) WeaverOf(PerfSim.Core.Costs.CostProfile costs, params CpuRole[] roles) => WeaverOf(costs, 1, roles);

    private static (QuantumWeaver Weaver, Latencies Latencies) WeaverOf(PerfSim.Core.Costs.CostProfile costs, int depth, params CpuRole[] roles)
    {
        var host = new HostCpus(roles.Length, costs);
        host.Assign(roles, [.. Enumerable.Repeat(true, roles.Length)]);
        var weaver = new QuantumWeaver(roles.Length, new SimLockTable(), host, depth);
        var latencies = new Latencies();
        weaver.Latencies = latencies;
        return (weaver, latencies);
    }

    /// <summary>Weaves <paramref name="logs"/> in quanta of <paramref name="quantumNs"/> (each
    /// quantum's entries logged on the clock with the delays settled so far), or all in one; with
    /// <paramref name="depth"/> closed quanta waiting for their weave at most, as the engine runs
    /// them: each close settles the weave <paramref name="depth"/> quanta back, then the oldest
    /// closed quantum is woven once <paramref name="depth"/> wait.</summary>
    private static (List<(int, long, long)> Events, List<(int, long)> Latencies, long[] Settled, (long Acquisitions, long Contended, long WaitNs)[] Locks)
        Weave(List<QuantumEntry>[] logs, long? quantumNs, int depth = 1)
    {
        int cpus = logs.Length;
        (QuantumWeaver weaver, Latencies latencies) = WeaverOf(new PerfSim.Core.Costs.CostProfile(), depth, [.. Enumerable.Range(0, cpus).Select(c => c % 3 == 0 ? CpuRole.Host : CpuRole.Vcpu)]);
        var events = new Events();
        weaver.Events = events;
        var next = new int[cpus];
        var clockDelays = new long[cpus];
        long end = logs.Max(l => l[^1].TimeNs);
        for (long until = quantumNs ?? long.MaxValue / 4; ; until += quantumNs ?? 0)
        {
            for (int c = 0; c < cpus; c++)
            {
                // Written during the quantum: on the clock as it was before this close's settle.
                for (; next[c] < logs[c].Count && (quantumNs is null || logs[c][next[c]].TimeNs < until); next[c]++)
                {
                    QuantumEntry e = logs[c][next[c]];
                    weaver.Logs[c].Add(e.WithTime(e.TimeNs + clockDelays[c]));
                }
            }

            // The log closes, then the clock takes the delays of the weave depth quanta back.
            weaver.Close(until);
            int due = weaver.Closes - depth;
            for (int c = 0; c < cpus && due > 0; c++)
            {
                clockDelays[c] += weaver.Settle(c, due, out _);
            }

            if (weaver.Closes - weaver.Weaves == depth)
            {
                weaver.WeaveClosed();
            }

            if (quantumNs is null || until > 100 * end)
            {
                break;
            }
        }

        while (weaver.HasClosed)
        {
            weaver.WeaveClosed();
        }

        for (int c = 0; c < cpus; c++)
        {
            clockDelays[c] += weaver.Settle(c, out _);
        }

        SimLock[] locks = [weaver.Locks[SimLockTable.CpaLock], weaver.Locks[SimLockTable.SplitLock]];
        return (events.Seen, latencies.Seen, clockDelays, [.. locks.Select(l => (l.Acquisitions, l.Contended, l.WaitNs))]);
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
