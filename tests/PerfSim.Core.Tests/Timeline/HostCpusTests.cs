using PerfSim.Core.Costs;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Tests.Timeline;

/// <summary>The call queue of kernel/smp.c and the price of an IPI by its target's state.</summary>
public sealed class HostCpusTests
{
    private static readonly CostProfile s_costs = new();

    /// <summary>A host whose CPU i has role <paramref name="roles"/>[i] and an actor (a state of its own).</summary>
    private static HostCpus Host(params CpuRole[] roles)
    {
        var host = new HostCpus(roles.Length, s_costs);
        host.Assign(roles, [.. roles.Select(_ => true)]);
        return host;
    }

    [Fact]
    public void Two_flushes_to_one_target_before_it_drains_send_one_ipi_and_run_two_callbacks()
    {
        // kernel/smp.c smp_call_function_many_cond: llist_add returns false on a non-empty queue,
        // and no IPI is sent; the target's interrupt runs every csd it finds.
        HostCpus host = Host(CpuRole.Host, CpuRole.Host, CpuRole.Host);
        var lost = new Lost();
        CallRound first = host.CallFunctionMany(0, 1_000, 98, lost);
        // CPU 1 sends before CPU 2's handler took the queue (arrival = send + IPI send + delivery).
        CallRound second = host.CallFunctionMany(1, 1_100, 98, lost);

        Assert.Equal((2, 2), (first.IpisSent, first.Callbacks));
        Assert.Equal((1, 2), (second.IpisSent, second.Callbacks)); // only CPU 0 (whose queue was empty) gets one
        Assert.Equal(3, host.TotalCounters().IpisSent);
        Assert.Equal(4, host.TotalCounters().Callbacks);

        // CPU 2 ran both callbacks in one interrupt: one handler, two invalidations; CPU 1 waits for it.
        long arrival = 1_000 + s_costs.IpiSendNs + s_costs.IpiDeliveryNs;
        long drained = arrival + s_costs.IpiHandlerNs + 98 + 98;
        Assert.Equal(s_costs.IpiHandlerNs + 98 + 98, lost.Of(2));
        // CPU 1 waits for the slower of CPU 2's shared interrupt and CPU 0's own (sent at 1,100).
        long cpu0 = 1_100 + s_costs.IpiSendNs + s_costs.IpiDeliveryNs + s_costs.IpiHandlerNs + 98;
        Assert.Equal(Math.Max(drained, cpu0) + s_costs.AckWaitPerExtraTargetNs, second.DoneNs);
    }

    [Fact]
    public void A_flush_after_the_target_took_its_queue_sends_another_ipi()
    {
        HostCpus host = Host(CpuRole.Host, CpuRole.Host);
        CallRound first = host.CallFunctionMany(0, 0, 98, new Lost());
        CallRound second = host.CallFunctionMany(0, first.DoneNs, 98, new Lost());
        Assert.Equal((1, 1), (first.IpisSent, second.IpisSent));
    }

    [Fact]
    public void A_target_in_guest_mode_pays_the_vm_exit_and_entry_and_its_vcpu_is_delayed_by_that_much()
    {
        HostCpus host = Host(CpuRole.Host, CpuRole.Vcpu);
        var lost = new Lost();
        CallRound round = host.CallFunctionMany(0, 0, 98, lost);

        Assert.Equal(s_costs.VmExitRoundTripNs + s_costs.KvmInterruptExitNs + s_costs.IpiHandlerNs + 98, lost.Of(1));
        Assert.Equal(1, host.TotalCounters().VmExits);
        // The initiator waits for the handler, which runs after the exit (the entry is the guest's loss only).
        Assert.Equal(s_costs.IpiSendNs + s_costs.IpiDeliveryNs + s_costs.GuestExitNs + s_costs.IpiHandlerNs + 98, round.DoneNs);

        // The same vCPU inside a host path (its fault) is not in guest mode: the handler alone.
        host.SetInPath(1, true);
        var inPath = new Lost();
        host.CallFunctionMany(0, 1_000_000, 98, inPath);
        Assert.Equal(s_costs.IpiHandlerNs + 98, inPath.Of(1));
        Assert.Equal(1, host.TotalCounters().VmExits);
    }

    [Fact]
    public void An_idle_target_wakes_from_the_state_the_governor_picked_for_its_wake_up_rate()
    {
        HostCpus host = Host(CpuRole.Host, CpuRole.Idle);
        var lost = new Lost();
        // No history: the governor predicts a long sleep, C6 (exit 133 µs on Skylake-SP).
        CallRound first = host.CallFunctionMany(0, 0, 98, lost);
        Assert.Equal(1, host.TotalCounters().WakeupsC6);
        long arrival = s_costs.IpiSendNs + s_costs.IpiDeliveryNs;
        Assert.Equal(arrival + 133_000 + s_costs.IpiHandlerNs + 98, first.DoneNs);
        Assert.Equal(0, lost.Of(1)); // nothing ran there to delay

        // Woken every 5 µs: the mean interval (5 µs) is past C1's residency (2 µs), short of C1E's (20 µs).
        long t = first.DoneNs;
        for (int i = 0; i < IdleStates.Intervals; i++)
        {
            t = host.CallFunctionMany(0, t + 5_000, 98, lost).DoneNs;
        }

        CpuCallCounters c = host.TotalCounters();
        Assert.True(c.WakeupsC1 >= IdleStates.Intervals - 1, $"C1 wake-ups {c.WakeupsC1}");
        Assert.Equal(0, lost.Of(1));
    }

    [Theory]
    [InlineData(IdlePolicy.Poll, 0L)]
    [InlineData(IdlePolicy.Haltpoll, 0L)]
    [InlineData(IdlePolicy.IntelIdle, 133_000L)]
    public void The_idle_policy_sets_what_a_first_wake_up_costs(IdlePolicy policy, long exitNs)
    {
        HostCpus host = Host(CpuRole.Host, CpuRole.Idle);
        host.Idle = policy;
        // Haltpoll polls for 200 µs after the CPU went idle; the IPI comes 1 µs in.
        CallRound round = host.CallFunctionMany(0, 1_000, 98, new Lost());
        Assert.Equal(1_000 + s_costs.IpiSendNs + s_costs.IpiDeliveryNs + exitNs + s_costs.IpiHandlerNs + 98, round.DoneNs);
    }

    [Fact]
    public void Physical_x2apic_mode_writes_the_icr_once_per_target_cluster_mode_once_per_16_cpus()
    {
        var roles = Enumerable.Repeat(CpuRole.Host, 64).ToArray();
        HostCpus cluster = Host(roles);
        HostCpus physical = Host(roles);
        physical.ApicMode = X2ApicMode.Physical;

        long clusterDone = cluster.CallFunctionMany(0, 0, 98, new Lost()).DoneNs;
        long physicalDone = physical.CallFunctionMany(0, 0, 98, new Lost()).DoneNs;

        // 63 targets: 4 cluster writes against 63 physical ones, each after the first at icr_write_ns.
        Assert.Equal((63 - 4) * s_costs.IcrWriteNs, physicalDone - clusterDone);
    }

    [Fact]
    public void Cpus_without_actors_share_one_state_per_role_and_count_as_many_targets()
    {
        var host = new HostCpus(8, s_costs);
        CpuRole[] roles = [CpuRole.Host, CpuRole.Vcpu, CpuRole.Idle, CpuRole.Idle, CpuRole.Idle, CpuRole.Idle, CpuRole.Host, CpuRole.Host];
        host.Assign(roles, [true, true, false, false, false, false, false, false]);
        var lost = new Lost();
        CallRound round = host.CallFunctionMany(0, 0, 98, lost);

        Assert.Equal((7, 7), (round.IpisSent, round.Callbacks));
        Assert.Equal(4, host.TotalCounters().WakeupsC6);
        Assert.Equal([1], lost.Cpus); // only CPU 1 has work (its vCPU) to lose
    }

    [Fact]
    public void A_call_to_a_cpumask_reaches_its_other_members_only()
    {
        // kernel/smp.c smp_call_function_many_cond: csds go to the CPUs of the mask, the initiator
        // cleared from it (__cpumask_clear_cpu(this_cpu, cfd->cpumask)).
        HostCpus host = Host(CpuRole.Host, CpuRole.Host, CpuRole.Vcpu, CpuRole.Host);
        var lost = new Lost();
        CallRound round = host.CallFunctionMany(0, 0, 98, lost, host.MaskId([0, 2]));

        Assert.Equal((1, 1), (round.IpisSent, round.Callbacks));
        Assert.Equal([2], lost.Cpus);
        Assert.Equal(1, host.TotalCounters().VmExits);
        Assert.Equal(s_costs.IpiSendNs + s_costs.IpiDeliveryNs + s_costs.GuestExitNs + s_costs.IpiHandlerNs + 98, round.DoneNs);
        Assert.Equal(host.MaskId([2, 0]), host.MaskId([0, 2])); // one id per set
    }

    [Fact]
    public void A_mask_naming_part_of_a_group_prices_its_members_in_the_mask_only()
    {
        var host = new HostCpus(8, s_costs);
        CpuRole[] roles = [CpuRole.Host, .. Enumerable.Repeat(CpuRole.Idle, 7)];
        host.Assign(roles, [true, false, false, false, false, false, false, false]);

        CallRound masked = host.CallFunctionMany(0, 0, 98, new Lost(), host.MaskId([0, 3, 4]));
        Assert.Equal((2, 2), (masked.IpisSent, masked.Callbacks));
        Assert.Equal(2, host.TotalCounters().WakeupsC6);

        // CPUs 3 and 4 woke, the other idle ones did not: an on_each_cpu 2 µs later finds 3 and 4
        // with a short history (C1E's 20 µs residency is out of reach: poll or C1), the rest in C6.
        CallRound all = host.CallFunctionMany(0, masked.DoneNs + 2_000, 98, new Lost());
        CpuCallCounters c = host.TotalCounters();
        Assert.Equal((7, 7), (all.IpisSent, all.Callbacks));
        Assert.Equal(2 + 5, c.WakeupsC6);
        Assert.Equal(2, c.WakeupsPoll + c.WakeupsC1);
    }

    [Fact]
    public void Idle_cpus_split_by_a_mask_keep_histories_of_their_own()
    {
        var host = new HostCpus(3, s_costs);
        host.Assign([CpuRole.Host, CpuRole.Idle, CpuRole.Idle], [true, false, false]);
        var lost = new Lost();
        // Both idle CPUs wake at once (C6: no history yet) and remember a short idle interval.
        long t = host.CallFunctionMany(0, 0, 98, lost).DoneNs;
        // CPU 1 alone is woken every 1 ms: its prediction grows long.
        int onlyCpu1 = host.MaskId([1]);
        for (int i = 0; i < IdleStates.Intervals; i++)
        {
            t = host.CallFunctionMany(0, t + 1_000_000, 98, lost, onlyCpu1).DoneNs;
        }

        CpuCallCounters before = host.TotalCounters();
        host.CallFunctionMany(0, t + 1_000_000, 98, lost);
        CpuCallCounters after = host.TotalCounters();

        // CPU 1 predicts a long sleep (C6); CPU 2 still predicts its one short interval (poll).
        Assert.Equal((1L, 1L), (after.WakeupsC6 - before.WakeupsC6, after.WakeupsPoll - before.WakeupsPoll));
    }

    private sealed class Lost : IInterruptSink
    {
        private readonly Dictionary<int, long> _ns = [];

        public IEnumerable<int> Cpus => _ns.Keys.Order();

        public long Of(int cpu) => _ns.GetValueOrDefault(cpu);

        public void Interrupted(ReadOnlySpan<int> cpus, ReadOnlySpan<long> ns)
        {
            for (int i = 0; i < cpus.Length; i++)
            {
                if (ns[i] != 0)
                {
                    _ns[cpus[i]] = Of(cpus[i]) + ns[i];
                }
            }
        }
    }
}
