using System.Numerics;
using PerfSim.Core.Costs;

namespace PerfSim.Core.Timeline;

/// <summary>What a host CPU is doing when an interrupt reaches it; the state prices the interrupt.</summary>
public enum CpuRole : byte
{
    /// <summary>Nothing runs there: the CPU sits in the C-state its idle policy picked.</summary>
    Idle,

    /// <summary>A host thread (a VMM thread, a kernel path, a user process): the handler alone.</summary>
    Host,

    /// <summary>A vCPU thread: in guest mode except while a host path (a fault) runs for it, so an
    /// IPI forces an external-interrupt VM exit, the handler, and a VM entry.</summary>
    Vcpu,
}

/// <summary>The host's idle loop: which states an idle CPU waits in.</summary>
public enum IdlePolicy : byte
{
    /// <summary><c>intel_idle</c> with the menu governor's choice (<see cref="IdleStates"/>).</summary>
    IntelIdle,

    /// <summary><c>idle=poll</c>: idle CPUs spin; a wake-up costs nothing beyond the handler.</summary>
    Poll,

    /// <summary><c>haltpoll</c>: poll for <see cref="IdleStates.HaltPollNs"/> after each wake-up, then halt (C1).</summary>
    Haltpoll,
}

/// <summary>How x2APIC sends one IPI to many CPUs (arch/x86/kernel/apic/).</summary>
public enum X2ApicMode : byte
{
    /// <summary><c>x2apic_cluster.c</c> <c>__x2apic_send_IPI_mask</c>: one ICR write per cluster of
    /// 16 logical IDs holding a target. The default in x2APIC mode: physical mode is used only with
    /// <c>x2apic_phys</c> on the command line or when the FADT asks for it (<c>x2apic_phys.c</c>
    /// <c>x2apic_fadt_phys</c>), which large servers do not.</summary>
    Cluster,

    /// <summary><c>x2apic_phys.c</c> <c>__x2apic_send_IPI_mask</c>: one ICR write per target.</summary>
    Physical,
}

/// <summary>
/// The idle states an <see cref="IdlePolicy.IntelIdle"/> CPU chooses from, and the governor rule.
/// Table: <c>skx_cstates</c> in drivers/idle/intel_idle.c (Skylake-SP): exit latency / target
/// residency C1 2/2 µs, C1E 10/20 µs, C6 133/600 µs; below C1's residency the governor polls.
/// </summary>
/// <remarks>The governor, simplified from the menu governor (drivers/cpuidle/governors/menu.c):
/// its prediction is the mean of the CPU's last <see cref="Intervals"/> idle intervals
/// (<c>get_typical_interval</c>, INTERVALS = 8; the kernel also drops outliers and caps by the next
/// timer, which an idle NOHZ CPU does not have), and it picks the deepest state whose target residency
/// is at most the prediction. No PM QoS latency limit (the default). A CPU that has not woken yet
/// predicts a long sleep and takes the deepest state.</remarks>
public static class IdleStates
{
    /// <summary>Idle intervals the prediction averages (menu.c INTERVALS).</summary>
    public const int Intervals = 8;

    /// <summary>Exit latencies, ns: poll, C1, C1E, C6 (intel_idle.c skx_cstates).</summary>
    public static ReadOnlySpan<long> ExitNs => [0, 2_000, 10_000, 133_000];

    /// <summary>Target residencies, ns, in the same order.</summary>
    public static ReadOnlySpan<long> ResidencyNs => [0, 2_000, 20_000, 600_000];

    /// <summary>The haltpoll window: <c>guest_halt_poll_ns</c> default 200 µs
    /// (drivers/cpuidle/governors/haltpoll.c).</summary>
    public const long HaltPollNs = 200_000;

    /// <summary>The state the policy leaves an idle CPU in when a wake-up comes
    /// <paramref name="idleForNs"/> after it went idle, given the governor's prediction.</summary>
    public static int Choose(IdlePolicy policy, long predictedNs, long idleForNs) => policy switch
    {
        IdlePolicy.Poll => 0,
        IdlePolicy.Haltpoll => idleForNs < HaltPollNs ? 0 : 1,
        _ => Deepest(predictedNs),
    };

    private static int Deepest(long predictedNs)
    {
        ReadOnlySpan<long> residency = ResidencyNs;
        int state = 0;
        for (int s = 1; s < residency.Length; s++)
        {
            if (residency[s] <= predictedNs)
            {
                state = s;
            }
        }

        return state;
    }
}

/// <summary>Receives the time an interrupt takes from a CPU's work (the weave: the lane's delay;
/// the immediate timeline: the CPU's clock).</summary>
public interface IInterruptSink
{
    void Interrupted(int cpu, long ns);
}

/// <summary>What one <c>smp_call_function_many_cond</c> did: IPIs sent, callbacks queued, when
/// the initiator's <c>csd_lock_wait</c> ends.</summary>
public readonly record struct CallRound(int IpisSent, int Callbacks, long DoneNs);

/// <summary>
/// Host CPU states over simulated time and the cross-CPU call queue of kernel/smp.c: the price of
/// an IPI on the CPU it lands on. One place for both the immediate timeline and the weave, which
/// call <see cref="CallFunctionMany"/> in simulated-time order.
/// </summary>
/// <remarks>
/// <para><b>Queue rule</b> (kernel/smp.c <c>smp_call_function_many_cond</c>): the initiator
/// <c>llist_add</c>s a csd to each target's <c>call_single_queue</c> and sends an IPI only when the
/// queue was empty; the target's interrupt (<c>__flush_smp_call_function_queue</c>) takes the whole
/// list with <c>llist_del_all</c> and runs every callback; the initiator spins in
/// <c>csd_lock_wait</c> until each of its csds ran. So a target's queue is non-empty from the
/// first enqueue until its handler starts: a flush in that window adds a callback and sends nothing.</para>
/// <para><b>Price by state</b> at arrival: <see cref="CpuRole.Vcpu"/> outside a host path: VM exit,
/// handler, VM entry, all taken from the guest; <see cref="CpuRole.Host"/> (or a vCPU inside a
/// fault): the handler; <see cref="CpuRole.Idle"/>: the exit latency of the C-state the policy
/// picked, then the handler (the wait is the initiator's; nothing of the CPU's work is lost).</para>
/// <para><b>Groups.</b> CPUs without actors receive the same IPIs at the same times (a kernel flush
/// goes to every online CPU), so their state is kept once per role: the cost of a broadcast is
/// O(CPUs with actors), not O(CPUs). A call to a cpumask that names part of a group splits it (the
/// named members get a state of their own), so a group's members always share their history.
/// Not synchronised (but <see cref="MaskId"/>): one thread at a time (a serial step, the immediate
/// timeline, or the weave).</para>
/// </remarks>
public sealed class HostCpus
{
    /// <summary>x2APIC logical IDs per cluster (16 bits of the logical destination).</summary>
    public const int ClusterCpus = 16;

    private readonly int _cpuCount;
    private readonly CostProfile _costs;
    private Slot[] _slots = [];
    private int[] _slotOf = [];
    private readonly CpuCallCounters[] _counters;

    /// <summary>Interned cpumasks: id − 1 indexes <see cref="_masks"/>.</summary>
    private readonly Dictionary<string, int> _maskIds = new(StringComparer.Ordinal);
    private readonly List<ulong[]> _masks = [];

    public HostCpus(int cpus, CostProfile costs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cpus, ClusterCpus * 64);
        ArgumentNullException.ThrowIfNull(costs);
        _cpuCount = cpus;
        _costs = costs;
        _counters = new CpuCallCounters[cpus];
        var roles = new CpuRole[cpus];
        Array.Fill(roles, CpuRole.Host);
        Assign(roles, new bool[cpus]);
    }

    public IdlePolicy Idle { get; set; } = IdlePolicy.IntelIdle;

    public X2ApicMode ApicMode { get; set; } = X2ApicMode.Cluster;

    /// <summary>Sets who runs where. A CPU with <paramref name="hasActor"/> keeps its own state; the
    /// others share one state per role. Keeps every queue and idle history (call between phases).</summary>
    public void Assign(ReadOnlySpan<CpuRole> roles, ReadOnlySpan<bool> hasActor)
    {
        if (roles.Length != _cpuCount || hasActor.Length != _cpuCount)
        {
            throw new ArgumentException($"roles for {_cpuCount} CPUs expected", nameof(roles));
        }

        // Slots: one per CPU with an actor, then one per role for the rest.
        var slots = new List<Slot>();
        var groupOf = new int[3];
        Array.Fill(groupOf, -1);
        var slotOf = new int[_cpuCount];
        for (int c = 0; c < _cpuCount; c++)
        {
            if (hasActor[c])
            {
                slotOf[c] = slots.Count;
                slots.Add(new Slot { Role = roles[c], Cpu = c });
            }
        }

        for (int c = 0; c < _cpuCount; c++)
        {
            if (!hasActor[c])
            {
                ref int g = ref groupOf[(int)roles[c]];
                if (g < 0)
                {
                    g = slots.Count;
                    slots.Add(new Slot { Role = roles[c], Cpu = -1 });
                }

                slotOf[c] = g;
            }
        }

        Slot[] array = [.. slots];
        for (int c = 0; c < _cpuCount; c++)
        {
            ref Slot s = ref array[slotOf[c]];
            s.Members++;
            s.Clusters |= 1UL << (c / ClusterCpus);
            // Carry what the CPU's queue and idle history were (a phase boundary changes no hardware).
            if (_slotOf.Length == _cpuCount && s.Members == 1)
            {
                Slot old = _slots[_slotOf[c]];
                s.DrainStartNs = old.DrainStartNs;
                s.DrainEndNs = old.DrainEndNs;
                s.GuestResumeNs = old.GuestResumeNs;
                s.IdleSinceNs = old.IdleSinceNs;
                s.Idle = old.Idle?.Clone();
            }
        }

        _slots = array;
        _slotOf = slotOf;
    }

    /// <summary>A host path starts (<paramref name="inPath"/>) or ends on <paramref name="cpu"/>.</summary>
    public void SetInPath(int cpu, bool inPath) => _slots[_slotOf[cpu]].InPath = inPath;

    /// <summary>The mask of <see cref="CallFunctionMany"/> that means every CPU but the initiator
    /// (<c>on_each_cpu</c>, <c>smp_call_function_many(cpu_online_mask, …)</c>).</summary>
    public const int AllOthers = 0;

    /// <summary>
    /// <c>smp_call_function_many_cond(mask, func, wait = 1)</c> issued by <paramref name="initiator"/>
    /// at <paramref name="sendNs"/> (the first <c>llist_add</c>), each callback costing
    /// <paramref name="callbackNs"/> on its target. <paramref name="mask"/> is
    /// <see cref="AllOthers"/> or an id from <see cref="MaskId"/>: the initiator itself is never a
    /// target (kernel/smp.c clears it: <c>__cpumask_clear_cpu(this_cpu, cfd->cpumask)</c>). Targets
    /// that lose work report it to <paramref name="sink"/>; returns when the initiator's
    /// <c>csd_lock_wait</c> ends. <paramref name="refill"/>: the callback empties the TLB (a kernel
    /// full flush), so each target that was running host code then pays <c>tlb_refill_ns</c> in
    /// refill misses (after the handler: the initiator does not wait for it). A vCPU in guest mode
    /// keeps its guest translations (tagged by VPID / ASID, which a host flush does not touch), an
    /// idle CPU has nothing to refill yet.
    /// </summary>
    public CallRound CallFunctionMany(int initiator, long sendNs, long callbackNs, IInterruptSink sink, int mask = AllOthers, bool refill = false)
    {
        ArgumentNullException.ThrowIfNull(sink);
        long refillNs = refill ? _costs.TlbRefillNs : 0;
        if (mask != AllOthers)
        {
            return CallFunctionMask(initiator, sendNs, callbackNs, sink, MaskOf(mask), refillNs);
        }

        int targets = _cpuCount - 1;
        if (targets == 0)
        {
            return new CallRound(0, 0, sendNs);
        }

        return Round(initiator, sendNs, callbackNs, sink, targets, [], refillNs);
    }

    /// <summary>Marks, in a logged cross call's id, a call whose targets refill their TLBs (mask ids are small).</summary>
    public const int RefillBit = 1 << 30;

    /// <summary>The id of the cpumask holding <paramref name="cpus"/> (interned: one id per
    /// distinct set, never <see cref="AllOthers"/>), for <see cref="CallFunctionMany"/> and for
    /// logged cross calls (an entry holds the id, not the mask). Thread-safe.</summary>
    public int MaskId(ReadOnlySpan<int> cpus)
    {
        var words = new ulong[(_cpuCount + 63) / 64];
        foreach (int c in cpus)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(c, nameof(cpus));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(c, _cpuCount, nameof(cpus));
            words[c >> 6] |= 1UL << (c & 63);
        }

        string key = string.Join(',', words);
        lock (_maskIds)
        {
            if (!_maskIds.TryGetValue(key, out int id))
            {
                _masks.Add(words);
                id = _masks.Count;
                _maskIds.Add(key, id);
            }

            return id;
        }
    }

    private ulong[] MaskOf(int id)
    {
        lock (_maskIds)
        {
            return _masks[id - 1];
        }
    }

    /// <summary>A call to the CPUs of <paramref name="words"/> but the initiator. A slot shared by
    /// CPUs without actors that the mask covers in part is split first (the members the mask names
    /// keep a state of their own from here), so every slot is priced for its members in the mask.</summary>
    private CallRound CallFunctionMask(int initiator, long sendNs, long callbackNs, IInterruptSink sink, ulong[] words, long refillNs)
    {
        int self = _slotOf[initiator];
        Span<int> perSlot = _slots.Length <= 256 ? stackalloc int[_slots.Length] : new int[_slots.Length];
        int targets = CountPerSlot(initiator, words, perSlot);
        for (int i = 0; i < perSlot.Length; i++)
        {
            int members = _slots[i].Members - (i == self ? 1 : 0);
            if (perSlot[i] > 0 && perSlot[i] < members)
            {
                SplitSlot(i, initiator, words);
                perSlot = new int[_slots.Length];
                CountPerSlot(initiator, words, perSlot);
            }
        }

        return targets == 0 ? new CallRound(0, 0, sendNs) : Round(initiator, sendNs, callbackNs, sink, targets, perSlot, refillNs);
    }

    private int CountPerSlot(int initiator, ulong[] words, Span<int> perSlot)
    {
        perSlot.Clear();
        int targets = 0;
        for (int w = 0; w < words.Length; w++)
        {
            for (ulong bits = words[w]; bits != 0; bits &= bits - 1)
            {
                int c = (w << 6) | BitOperations.TrailingZeroCount(bits);
                if (c != initiator)
                {
                    perSlot[_slotOf[c]]++;
                    targets++;
                }
            }
        }

        return targets;
    }

    /// <summary>Moves the members of slot <paramref name="index"/> that <paramref name="words"/>
    /// names (the initiator aside) to a new slot with the same state.</summary>
    private void SplitSlot(int index, int initiator, ulong[] words)
    {
        Slot[] slots = [.. _slots, _slots[index]];
        int moved = slots.Length - 1;
        slots[index].Members = 0;
        slots[index].Clusters = 0;
        slots[moved].Members = 0;
        slots[moved].Clusters = 0;
        slots[moved].Idle = slots[index].Idle?.Clone();
        for (int c = 0; c < _cpuCount; c++)
        {
            if (_slotOf[c] != index)
            {
                continue;
            }

            if (c != initiator && (words[c >> 6] & (1UL << (c & 63))) != 0)
            {
                _slotOf[c] = moved;
            }

            ref Slot s = ref slots[_slotOf[c]];
            s.Members++;
            s.Clusters |= 1UL << (c / ClusterCpus);
        }

        _slots = slots;
    }

    /// <summary>One call round: <paramref name="perSlot"/> holds each slot's targets (empty: every
    /// member but the initiator).</summary>
    private CallRound Round(int initiator, long sendNs, long callbackNs, IInterruptSink sink, int targets, ReadOnlySpan<int> perSlot, long refillNs)
    {
        Slot[] slots = _slots;
        int self = _slotOf[initiator];
        bool all = perSlot.IsEmpty;

        // llist_add to every target: which queues were empty (they get an IPI)?
        int ipis = 0;
        ulong clusters = 0;
        for (int i = 0; i < slots.Length; i++)
        {
            ref Slot s = ref slots[i];
            int members = all ? s.Members - (i == self ? 1 : 0) : perSlot[i];
            s.NeedsIpi = members > 0 && sendNs >= s.DrainStartNs;
            if (s.NeedsIpi)
            {
                ipis += members;
                clusters |= s.Clusters;
            }
        }

        int icrWrites = ApicMode == X2ApicMode.Physical ? ipis : BitOperations.PopCount(clusters);
        long arrival = sendNs + (icrWrites == 0 ? 0 : _costs.IpiSendNs + ((icrWrites - 1) * _costs.IcrWriteNs)) + _costs.IpiDeliveryNs;
        long handlerFixed = _costs.IpiHandlerNs;
        long latest = sendNs;
        ref CpuCallCounters counters = ref _counters[initiator];
        for (int i = 0; i < slots.Length; i++)
        {
            ref Slot s = ref slots[i];
            int members = all ? s.Members - (i == self ? 1 : 0) : perSlot[i];
            if (members == 0)
            {
                continue;
            }

            long lost;
            bool guestMode = s.Role == CpuRole.Vcpu && !s.InPath;
            if (!s.NeedsIpi)
            {
                // Queued behind a csd not yet taken: it runs in the same interrupt.
                s.DrainEndNs += callbackNs;
                lost = s.Role == CpuRole.Idle ? 0 : callbackNs;
                if (s.Role == CpuRole.Vcpu && s.GuestResumeNs > sendNs)
                {
                    s.GuestResumeNs += callbackNs;
                }
            }
            else
            {
                long start = arrival;
                lost = handlerFixed + callbackNs;
                if (s.Role == CpuRole.Idle)
                {
                    long idleFor = Math.Max(0, arrival - s.IdleSinceNs);
                    s.Idle ??= new IdleHistory();
                    int state = IdleStates.Choose(Idle, s.Idle.Predicted(), idleFor);
                    start += IdleStates.ExitNs[state];
                    s.Idle.Remember(idleFor);
                    counters.AddWakeups(state, members);
                    lost = 0;
                }
                else if (s.Role == CpuRole.Vcpu && !s.InPath && arrival >= s.GuestResumeNs)
                {
                    // External-interrupt VM exit: the handler runs in the host, then VM entry.
                    start += _costs.GuestExitNs;
                    lost += _costs.GuestExitAndEntryNs;
                    counters.VmExits += members;
                }

                start = Math.Max(start, s.DrainEndNs);
                s.DrainStartNs = start;
                s.DrainEndNs = start + handlerFixed + callbackNs;
                if (s.Role == CpuRole.Vcpu && !s.InPath)
                {
                    s.GuestResumeNs = s.DrainEndNs + (_costs.GuestExitAndEntryNs - _costs.GuestExitNs);
                }
                else if (s.Role == CpuRole.Idle)
                {
                    s.IdleSinceNs = s.DrainEndNs;
                }
            }

            latest = Math.Max(latest, s.DrainEndNs);
            if (s.Role != CpuRole.Idle && !guestMode)
            {
                lost += refillNs;
            }

            if (lost > 0 && s.Cpu >= 0)
            {
                sink.Interrupted(s.Cpu, lost);
            }
        }

        counters.IpisSent += ipis;
        counters.Callbacks += targets;
        // csd_lock_wait polls each target's csd in turn: one cache-line transfer per extra target.
        long done = latest + ((targets - 1) * _costs.AckWaitPerExtraTargetNs);
        return new CallRound(ipis, targets, done);
    }

    /// <summary>Call-queue counters of initiating CPU <paramref name="cpu"/>.</summary>
    public CpuCallCounters CountersOf(int cpu) => _counters[cpu];

    /// <summary>All initiators' counters.</summary>
    public CpuCallCounters TotalCounters()
    {
        CpuCallCounters total = default;
        foreach (CpuCallCounters c in _counters)
        {
            total += c;
        }

        return total;
    }

    private struct Slot
    {
        public CpuRole Role;
        public bool InPath;
        public bool NeedsIpi;

        /// <summary>The CPU (−1 for a group of CPUs without actors).</summary>
        public int Cpu;
        public int Members;
        public ulong Clusters;

        /// <summary>When the handler last took (or will take) the queue: before it, the queue is non-empty.</summary>
        public long DrainStartNs;

        /// <summary>When that handler's last callback ends.</summary>
        public long DrainEndNs;

        /// <summary>A vCPU re-enters the guest then (it is in the host until).</summary>
        public long GuestResumeNs;

        /// <summary>An idle CPU went back to idle then.</summary>
        public long IdleSinceNs;

        /// <summary>An idle CPU's recent idle intervals (null until it first wakes).</summary>
        public IdleHistory? Idle;
    }

    /// <summary>The menu governor's last <see cref="IdleStates.Intervals"/> idle intervals.</summary>
    private sealed class IdleHistory
    {
        private readonly long[] _intervals = new long[IdleStates.Intervals];
        private int _count;

        public long Predicted()
        {
            if (_count == 0)
            {
                return long.MaxValue;
            }

            int n = Math.Min(_count, IdleStates.Intervals);
            long sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += _intervals[i];
            }

            return sum / n;
        }

        public void Remember(long intervalNs) => _intervals[_count++ % IdleStates.Intervals] = intervalNs;

        /// <summary>A copy for a state that goes its own way (a slot split or re-formed), so two
        /// states never share one history.</summary>
        public IdleHistory Clone()
        {
            var copy = new IdleHistory { _count = _count };
            _intervals.CopyTo(copy._intervals, 0);
            return copy;
        }
    }
}

/// <summary>What one initiator's cross-CPU calls did: IPIs sent (what <c>/proc/interrupts</c> CAL
/// counts on the targets), callbacks queued, VM exits they forced, idle wake-ups by C-state.</summary>
public struct CpuCallCounters
{
    public long IpisSent;
    public long Callbacks;
    public long VmExits;
    public long WakeupsPoll;
    public long WakeupsC1;
    public long WakeupsC1E;
    public long WakeupsC6;

    /// <summary>Counts <paramref name="n"/> wake-ups from idle state <paramref name="state"/> (0 poll, 1 C1, 2 C1E, 3 C6: <see cref="IdleStates.ExitNs"/>'s order).</summary>
    public void AddWakeups(int state, long n)
    {
        switch (state)
        {
            case 0: WakeupsPoll += n; break;
            case 1: WakeupsC1 += n; break;
            case 2: WakeupsC1E += n; break;
            default: WakeupsC6 += n; break;
        }
    }

    public static CpuCallCounters operator +(CpuCallCounters a, CpuCallCounters b) => new()
    {
        IpisSent = a.IpisSent + b.IpisSent,
        Callbacks = a.Callbacks + b.Callbacks,
        VmExits = a.VmExits + b.VmExits,
        WakeupsPoll = a.WakeupsPoll + b.WakeupsPoll,
        WakeupsC1 = a.WakeupsC1 + b.WakeupsC1,
        WakeupsC1E = a.WakeupsC1E + b.WakeupsC1E,
        WakeupsC6 = a.WakeupsC6 + b.WakeupsC6,
    };

    public static CpuCallCounters Add(CpuCallCounters left, CpuCallCounters right) => left + right;
}
