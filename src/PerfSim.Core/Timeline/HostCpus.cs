using System.Numerics;
using System.Runtime.Intrinsics;
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

/// <summary>Receives the time interrupts take from CPUs' work (the weave: the lanes' delays; the
/// immediate timeline: the CPUs' clocks), once per call round.</summary>
public interface IInterruptSink
{
    /// <summary>CPU <paramref name="cpus"/>[i] lost <paramref name="ns"/>[i] ns (0: nothing); the CPUs
    /// come in ascending order, each once.</summary>
    void Interrupted(ReadOnlySpan<int> cpus, ReadOnlySpan<long> ns);
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
/// named members get a state of their own), so a group's members always share their history.</para>
/// <para><b>Layout.</b> A fault's flush reaches every vCPU, so a round is priced for all states at
/// once: the states are a struct of arrays, and the non-idle ones (all but the governor's) are
/// priced a vector of states per step without branches. Not synchronised (but <see cref="MaskId"/>):
/// one thread at a time (a serial step, the immediate timeline, or the weave).</para>
/// </remarks>
public sealed class HostCpus
{
    /// <summary>x2APIC logical IDs per cluster (16 bits of the logical destination).</summary>
    public const int ClusterCpus = 16;

    private readonly int _cpuCount;
    private readonly CostProfile _costs;
    private readonly CpuCallCounters[] _counters;

    /// <summary>The states in three runs: [0, <see cref="_actors"/>) CPUs with an actor, not idle
    /// (the sink hears what they lose); then the shared non-idle states; [<see cref="_idleStart"/>,
    /// <see cref="_count"/>) idle states. The gap before the idle run (no members) pads the
    /// vector-priced runs to whole vectors.</summary>
    private int _actors;
    private int _idleStart;
    private int _count;
    private int[] _slotOf = [];
    private int[] _cpu = [];
    private long[] _members = [];
    private ulong[] _clusters = [];

    /// <summary>All ones for a vCPU's state, and for one inside a host path (masks, for the vector pass).</summary>
    private long[] _isVcpu = [];
    private long[] _inPath = [];

    /// <summary>When the handler last took (or will take) the queue: before it, the queue is non-empty.</summary>
    private long[] _drainStartNs = [];

    /// <summary>When that handler's last callback ends.</summary>
    private long[] _drainEndNs = [];

    /// <summary>A vCPU re-enters the guest then (it is in the host until).</summary>
    private long[] _guestResumeNs = [];

    /// <summary>An idle CPU went back to idle then, and its recent idle intervals (null until it first wakes).</summary>
    private long[] _idleSinceNs = [];
    private IdleHistory?[] _idle = [];

    /// <summary>A round's scratch: targets per state, whose queue was empty (mask), work lost.</summary>
    private long[] _targets = [];
    private long[] _needsIpi = [];
    private long[] _lost = [];

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

    private static int Width => Vector256<long>.Count;

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
        Slot[] old = _slotOf.Length == _cpuCount ? Snapshot() : [];
        for (int c = 0; c < _cpuCount; c++)
        {
            ref Slot s = ref array[slotOf[c]];
            s.Members++;
            s.Clusters |= 1UL << (c / ClusterCpus);
            // Carry what the CPU's queue and idle history were (a phase boundary changes no hardware).
            if (old.Length > 0 && s.Members == 1)
            {
                Slot was = old[_slotOf[c]];
                s.DrainStartNs = was.DrainStartNs;
                s.DrainEndNs = was.DrainEndNs;
                s.GuestResumeNs = was.GuestResumeNs;
                s.IdleSinceNs = was.IdleSinceNs;
                s.Idle = was.Idle?.Clone();
            }
        }

        Store(array, slotOf);
    }

    /// <summary>The CPUs <see cref="IInterruptSink.Interrupted"/> can name (those with an actor that
    /// are not idle) lie below this.</summary>
    public int ActorSpan { get; private set; }

    /// <summary>A host path starts (<paramref name="inPath"/>) or ends on <paramref name="cpu"/>.</summary>
    public void SetInPath(int cpu, bool inPath) => _inPath[_slotOf[cpu]] = inPath ? -1 : 0;

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

        Array.Copy(_members, _targets, _count);
        _targets[_slotOf[initiator]]--;
        return Round(initiator, sendNs, callbackNs, sink, targets, refillNs);
    }

    /// <summary>Marks, in a logged cross call's id, a call whose targets refill their TLBs (mask ids
    /// are small: one per distinct cpumask; a log entry's id holds 28 bits).</summary>
    public const int RefillBit = 1 << 27;

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
                if (_masks.Count + 1 >= RefillBit)
                {
                    throw new InvalidOperationException($"more than {RefillBit - 1} distinct cpumasks");
                }

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
        int targets = CountTargets(initiator, words);
        for (int i = 0; i < _count; i++)
        {
            int members = (int)_members[i] - (i == _slotOf[initiator] ? 1 : 0);
            if (_targets[i] > 0 && _targets[i] < members)
            {
                SplitSlot(i, initiator, words);
                CountTargets(initiator, words);
                i = -1; // the layout changed: look again from the start
            }
        }

        return targets == 0 ? new CallRound(0, 0, sendNs) : Round(initiator, sendNs, callbackNs, sink, targets, refillNs);
    }

    /// <summary>Fills <see cref="_targets"/> with each slot's members that <paramref name="words"/>
    /// names but the initiator; returns their count.</summary>
    private int CountTargets(int initiator, ulong[] words)
    {
        Array.Clear(_targets);
        int targets = 0;
        for (int w = 0; w < words.Length; w++)
        {
            for (ulong bits = words[w]; bits != 0; bits &= bits - 1)
            {
                int c = (w << 6) | BitOperations.TrailingZeroCount(bits);
                if (c != initiator)
                {
                    _targets[_slotOf[c]]++;
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
        Slot[] slots = [.. Snapshot(), default];
        int moved = slots.Length - 1;
        slots[moved] = slots[index] with { Idle = slots[index].Idle?.Clone() };
        slots[index].Members = 0;
        slots[index].Clusters = 0;
        slots[moved].Members = 0;
        slots[moved].Clusters = 0;
        int[] slotOf = [.. _slotOf];
        for (int c = 0; c < _cpuCount; c++)
        {
            if (slotOf[c] != index)
            {
                continue;
            }

            if (c != initiator && (words[c >> 6] & (1UL << (c & 63))) != 0)
            {
                slotOf[c] = moved;
            }

            ref Slot s = ref slots[slotOf[c]];
            s.Members++;
            s.Clusters |= 1UL << (c / ClusterCpus);
        }

        Store(slots, slotOf);
    }

    /// <summary>One call round to the targets in <see cref="_targets"/>.</summary>
    private CallRound Round(int initiator, long sendNs, long callbackNs, IInterruptSink sink, int targets, long refillNs)
    {
        // llist_add to every target: which queues were empty (they get an IPI)? The vector passes
        // read spans taken once: the arrays' fields, reloaded at every step, were half their work.
        int busy = _idleStart;
        ReadOnlySpan<long> targetsOf = _targets.AsSpan(0, busy);
        ReadOnlySpan<long> drainStart = _drainStartNs.AsSpan(0, busy);
        ReadOnlySpan<ulong> clustersOf = _clusters.AsSpan(0, busy);
        Span<long> needsIpi = _needsIpi.AsSpan(0, busy);
        Vector256<long> send = Vector256.Create(sendNs);
        Vector256<long> ipiVector = Vector256<long>.Zero;
        Vector256<ulong> clusterVector = Vector256<ulong>.Zero;
        for (int i = 0; i < busy; i += Width)
        {
            Vector256<long> t = Vector256.Create(targetsOf.Slice(i, Width));
            Vector256<long> need = Vector256.GreaterThan(t, Vector256<long>.Zero) & Vector256.GreaterThanOrEqual(send, Vector256.Create(drainStart.Slice(i, Width)));
            need.CopyTo(needsIpi.Slice(i, Width));
            ipiVector += t & need;
            clusterVector |= Vector256.Create(clustersOf.Slice(i, Width)) & need.AsUInt64();
        }

        long ipis = Vector256.Sum(ipiVector);
        ulong clusters = clusterVector[0] | clusterVector[1] | clusterVector[2] | clusterVector[3];
        for (int i = _idleStart; i < _count; i++)
        {
            bool need = _targets[i] > 0 && sendNs >= _drainStartNs[i];
            _needsIpi[i] = need ? -1 : 0;
            ipis += need ? _targets[i] : 0;
            clusters |= need ? _clusters[i] : 0;
        }

        long icrWrites = ApicMode == X2ApicMode.Physical ? ipis : BitOperations.PopCount(clusters);
        long arrivalNs = sendNs + (icrWrites == 0 ? 0 : _costs.IpiSendNs + ((icrWrites - 1) * _costs.IcrWriteNs)) + _costs.IpiDeliveryNs;
        ref CpuCallCounters counters = ref _counters[initiator];
        long latest = Math.Max(PriceBusy(sendNs, arrivalNs, callbackNs, refillNs, ref counters), PriceIdle(arrivalNs, callbackNs, ref counters));
        if (_actors > 0)
        {
            sink.Interrupted(_cpu.AsSpan(0, _actors), _lost.AsSpan(0, _actors));
        }

        counters.IpisSent += ipis;
        counters.Callbacks += targets;
        // csd_lock_wait polls each target's csd in turn: one cache-line transfer per extra target.
        long done = Math.Max(sendNs, latest) + ((targets - 1) * _costs.AckWaitPerExtraTargetNs);
        return new CallRound((int)ipis, targets, done);
    }

    /// <summary>Prices the round on the non-idle states, a vector of them per step: a queued
    /// callback runs in the interrupt already coming; an IPI's handler starts at arrival (after a VM
    /// exit for a vCPU in guest mode) or when the previous one ends. Writes what each loses to
    /// <see cref="_lost"/>; returns when the last of their handlers ends (<see cref="long.MinValue"/>: none).</summary>
    private long PriceBusy(long sendNs, long arrivalNs, long callbackNs, long refillNs, ref CpuCallCounters counters)
    {
        Vector256<long> zero = Vector256<long>.Zero;
        Vector256<long> send = Vector256.Create(sendNs);
        Vector256<long> arrival = Vector256.Create(arrivalNs);
        Vector256<long> callback = Vector256.Create(callbackNs);
        Vector256<long> handlerAndCallback = Vector256.Create(_costs.IpiHandlerNs + callbackNs);
        Vector256<long> exit = Vector256.Create(_costs.GuestExitNs);
        Vector256<long> exitAndEntry = Vector256.Create(_costs.GuestExitAndEntryNs);
        Vector256<long> entry = Vector256.Create(_costs.GuestExitAndEntryNs - _costs.GuestExitNs);
        Vector256<long> refill = Vector256.Create(refillNs);
        Vector256<long> latest = Vector256.Create(long.MinValue);
        Vector256<long> vmExits = zero;
        int busy = _idleStart;
        ReadOnlySpan<long> targetsOf = _targets.AsSpan(0, busy);
        ReadOnlySpan<long> needsIpi = _needsIpi.AsSpan(0, busy);
        ReadOnlySpan<long> isVcpu = _isVcpu.AsSpan(0, busy);
        ReadOnlySpan<long> inPath = _inPath.AsSpan(0, busy);
        Span<long> drainStart = _drainStartNs.AsSpan(0, busy);
        Span<long> drainEnd = _drainEndNs.AsSpan(0, busy);
        Span<long> guestResumeOf = _guestResumeNs.AsSpan(0, busy);
        Span<long> lostOf = _lost.AsSpan(0, busy);
        for (int i = 0; i < busy; i += Width)
        {
            Vector256<long> t = Vector256.Create(targetsOf.Slice(i, Width));
            Vector256<long> need = Vector256.Create(needsIpi.Slice(i, Width));
            Vector256<long> vcpu = Vector256.Create(isVcpu.Slice(i, Width));
            Vector256<long> guestMode = Vector256.AndNot(vcpu, Vector256.Create(inPath.Slice(i, Width)));
            Vector256<long> targeted = Vector256.GreaterThan(t, zero);
            Vector256<long> queued = Vector256.AndNot(targeted, need);
            Vector256<long> wasDrainEnd = Vector256.Create(drainEnd.Slice(i, Width));
            Vector256<long> guestResume = Vector256.Create(guestResumeOf.Slice(i, Width));

            // Queued behind a csd not yet taken: it runs in the same interrupt, which it lengthens.
            Vector256<long> queuedResume = guestResume + (callback & vcpu & Vector256.GreaterThan(guestResume, send));

            // Sent: an external-interrupt VM exit when the vCPU is in guest mode, the handler in the host, then VM entry.
            Vector256<long> vmExit = need & guestMode & Vector256.GreaterThanOrEqual(arrival, guestResume);
            Vector256<long> start = Vector256.Max(arrival + (exit & vmExit), wasDrainEnd);
            Vector256<long> sentEnd = start + handlerAndCallback;

            Vector256<long> newEnd = Vector256.ConditionalSelect(need, sentEnd, wasDrainEnd + (callback & queued));
            Vector256<long> lost = Vector256.ConditionalSelect(need, handlerAndCallback + (exitAndEntry & vmExit), callback & queued);
            lost += refill & Vector256.AndNot(targeted, guestMode);
            Vector256.ConditionalSelect(need, start, Vector256.Create(drainStart.Slice(i, Width))).CopyTo(drainStart.Slice(i, Width));
            newEnd.CopyTo(drainEnd.Slice(i, Width));
            Vector256.ConditionalSelect(need, Vector256.ConditionalSelect(guestMode, sentEnd + entry, guestResume), Vector256.ConditionalSelect(queued, queuedResume, guestResume)).CopyTo(guestResumeOf.Slice(i, Width));
            lost.CopyTo(lostOf.Slice(i, Width));
            latest = Vector256.Max(latest, Vector256.ConditionalSelect(targeted, newEnd, latest));
            vmExits += t & vmExit;
        }

        counters.VmExits += Vector256.Sum(vmExits);
        return Math.Max(Math.Max(latest[0], latest[1]), Math.Max(latest[2], latest[3]));
    }

    /// <summary>Prices the round on the idle states, one by one: the governor picks the C-state
    /// each waits in, whose exit latency delays its handler. An idle CPU loses no work.</summary>
    private long PriceIdle(long arrivalNs, long callbackNs, ref CpuCallCounters counters)
    {
        long latest = long.MinValue;
        for (int i = _idleStart; i < _count; i++)
        {
            long members = _targets[i];
            if (members == 0)
            {
                continue;
            }

            if (_needsIpi[i] == 0)
            {
                _drainEndNs[i] += callbackNs;
            }
            else
            {
                long idleFor = Math.Max(0, arrivalNs - _idleSinceNs[i]);
                IdleHistory history = _idle[i] ??= new IdleHistory();
                int state = IdleStates.Choose(Idle, history.Predicted(), idleFor);
                history.Remember(idleFor);
                counters.AddWakeups(state, members);
                long start = Math.Max(arrivalNs + IdleStates.ExitNs[state], _drainEndNs[i]);
                _drainStartNs[i] = start;
                _drainEndNs[i] = start + _costs.IpiHandlerNs + callbackNs;
                _idleSinceNs[i] = _drainEndNs[i];
            }

            latest = Math.Max(latest, _drainEndNs[i]);
        }

        return latest;
    }

    /// <summary>The states as records (for the rare changes of layout: a phase, a split).</summary>
    private Slot[] Snapshot()
    {
        var slots = new Slot[_count];
        for (int i = 0; i < _count; i++)
        {
            slots[i] = new Slot
            {
                Role = i >= _idleStart ? CpuRole.Idle : _isVcpu[i] != 0 ? CpuRole.Vcpu : CpuRole.Host,
                InPath = _inPath[i] != 0,
                Cpu = _cpu[i],
                Members = (int)_members[i],
                Clusters = _clusters[i],
                DrainStartNs = _drainStartNs[i],
                DrainEndNs = _drainEndNs[i],
                GuestResumeNs = _guestResumeNs[i],
                IdleSinceNs = _idleSinceNs[i],
                Idle = _idle[i],
            };
        }

        return slots;
    }

    /// <summary>Lays <paramref name="slots"/> out in the three runs (slots without members are
    /// dropped) and maps each CPU of <paramref name="slotOf"/> to its slot's new place.</summary>
    private void Store(Slot[] slots, int[] slotOf)
    {
        int[] order =
        [
            .. Enumerable.Range(0, slots.Length).Where(i => slots[i].Members > 0 && slots[i].Role != CpuRole.Idle && slots[i].Cpu >= 0),
            .. Enumerable.Range(0, slots.Length).Where(i => slots[i].Members > 0 && slots[i].Role != CpuRole.Idle && slots[i].Cpu < 0),
            .. Enumerable.Range(0, slots.Length).Where(i => slots[i].Members > 0 && slots[i].Role == CpuRole.Idle),
        ];
        _actors = order.Count(i => slots[i].Role != CpuRole.Idle && slots[i].Cpu >= 0);
        int busy = order.Count(i => slots[i].Role != CpuRole.Idle);
        _idleStart = (busy + Width - 1) / Width * Width;
        _count = _idleStart + (order.Length - busy);
        int length = Math.Max(_count, Width);
        _cpu = new int[length];
        _members = new long[length];
        _clusters = new ulong[length];
        _isVcpu = new long[length];
        _inPath = new long[length];
        _drainStartNs = new long[length];
        _drainEndNs = new long[length];
        _guestResumeNs = new long[length];
        _idleSinceNs = new long[length];
        _idle = new IdleHistory?[length];
        _targets = new long[length];
        _needsIpi = new long[length];
        _lost = new long[length];
        Array.Fill(_cpu, -1);
        var placeOf = new int[slots.Length];
        for (int k = 0; k < order.Length; k++)
        {
            int at = k < busy ? k : _idleStart + (k - busy);
            Slot s = slots[order[k]];
            placeOf[order[k]] = at;
            _cpu[at] = s.Cpu;
            _members[at] = s.Members;
            _clusters[at] = s.Clusters;
            _isVcpu[at] = s.Role == CpuRole.Vcpu ? -1 : 0;
            _inPath[at] = s.InPath ? -1 : 0;
            _drainStartNs[at] = s.DrainStartNs;
            _drainEndNs[at] = s.DrainEndNs;
            _guestResumeNs[at] = s.GuestResumeNs;
            _idleSinceNs[at] = s.IdleSinceNs;
            _idle[at] = s.Idle;
        }

        for (int c = 0; c < slotOf.Length; c++)
        {
            slotOf[c] = placeOf[slotOf[c]];
        }

        _slotOf = slotOf;
        ActorSpan = _actors == 0 ? 0 : _cpu[_actors - 1] + 1; // ascending (IInterruptSink's order)
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

    /// <summary>One state as a record (<see cref="Snapshot"/>, <see cref="Store"/>).</summary>
    private record struct Slot
    {
        public CpuRole Role;
        public bool InPath;

        /// <summary>The CPU (−1 for a group of CPUs without actors).</summary>
        public int Cpu;
        public int Members;
        public ulong Clusters;
        public long DrainStartNs;
        public long DrainEndNs;
        public long GuestResumeNs;
        public long IdleSinceNs;
        public IdleHistory? Idle;
    }

    /// <summary>The menu governor's last <see cref="IdleStates.Intervals"/> idle intervals.</summary>
    private sealed class IdleHistory
    {
        private readonly long[] _intervals = new long[IdleStates.Intervals];

        /// <summary>Intervals kept (up to <see cref="IdleStates.Intervals"/>) and the slot the next
        /// one replaces: counts that stop at the ring's size (a count of every wake-up, taken
        /// modulo the ring, went negative after 2^31 wake-ups: an index out of range).</summary>
        private int _kept;
        private int _next;

        public long Predicted()
        {
            if (_kept == 0)
            {
                return long.MaxValue;
            }

            long sum = 0;
            for (int i = 0; i < _kept; i++)
            {
                sum += _intervals[i];
            }

            return sum / _kept;
        }

        public void Remember(long intervalNs)
        {
            _intervals[_next] = intervalNs;
            _next = _next == IdleStates.Intervals - 1 ? 0 : _next + 1;
            _kept = Math.Min(_kept + 1, IdleStates.Intervals);
        }

        /// <summary>A copy for a state that goes its own way (a slot split or re-formed), so two
        /// states never share one history.</summary>
        public IdleHistory Clone()
        {
            var copy = new IdleHistory { _kept = _kept, _next = _next };
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
