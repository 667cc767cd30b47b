using PerfSim.Core.Events;
using PerfSim.Core.Memory;

namespace PerfSim.Core.Timeline;

/// <summary>One simulated clock per CPU, in ns, each on its own cache line (host threads advance
/// different CPUs' clocks at once). An interrupt's time lands on its target's clock at once: the
/// immediate timeline's <see cref="IInterruptSink"/>.</summary>
public sealed class CpuClocks : IInterruptSink
{
    private const int Stride = NativeArena.CacheLine / sizeof(long);
    private readonly long[] _ns;

    public CpuClocks(int cpus)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 1);
        _ns = new long[cpus * Stride];
        Count = cpus;
    }

    public int Count { get; }

    /// <summary>CPU <paramref name="cpu"/>'s clock.</summary>
    public ref long this[int cpu] => ref _ns[cpu * Stride];

    void IInterruptSink.Interrupted(ReadOnlySpan<int> cpus, ReadOnlySpan<long> ns)
    {
        for (int i = 0; i < cpus.Length; i++)
        {
            this[cpus[i]] += ns[i];
        }
    }
}

/// <summary>
/// What a kernel path reports that orders CPUs against each other: a path's start and its
/// latency, simulated lock holds, cross-CPU calls and events, each at the CPU's clock. Two
/// implementations: <see cref="ImmediateEffects"/> applies each at once (one thread, calls made in
/// time order: unit tests, single steps), <see cref="LoggedEffects"/> appends it to the CPU's
/// quantum log, and the <see cref="QuantumWeaver"/> applies the same rules in simulated-time order.
/// </summary>
/// <remarks>An abstract class, not an interface: a virtual call through the vtable is cheaper
/// than interface dispatch, and these run several times per simulated fault.</remarks>
internal abstract class OrderedEffects
{
    /// <summary>A host path starts on <paramref name="cpu"/>.</summary>
    public abstract void Enter(int cpu);

    /// <summary>Where <paramref name="cpu"/>'s effects end now: a hold found later, but begun
    /// before what the CPU reported since, is placed here.</summary>
    public abstract int Mark(int cpu);

    /// <summary>Holds lock <paramref name="lockId"/> for <paramref name="holdNs"/> from the CPU's
    /// clock and advances the clock past it; returns the wait found now (0 when logged: the weave
    /// finds it).</summary>
    public abstract long Hold(int cpu, int mark, int lockId, long holdNs, long handoffNs);

    /// <summary><c>smp_call_function_many_cond</c> issued at <paramref name="sendNs"/> after the
    /// initiator charged itself <paramref name="localNs"/> from there; returns its further wait for
    /// the slowest target (0 when logged).</summary>
    public abstract long CrossCall(int cpu, long sendNs, long callbackNs, long localNs, int mask, bool refill);

    /// <summary>A path's latency, ending at the CPU's clock.</summary>
    public abstract void Latency(int cpu, int histogram, long latencyNs, ILatencySink direct);
}

/// <summary>The immediate timeline: every effect applied when it is reported.</summary>
internal sealed class ImmediateEffects(CpuClocks clocks, SimLockTable locks, HostCpus host) : OrderedEffects
{
    public override void Enter(int cpu) => host.SetInPath(cpu, true);

    public override int Mark(int cpu) => 0;

    public override long Hold(int cpu, int mark, int lockId, long holdNs, long handoffNs) =>
        locks[lockId].Hold(ref clocks[cpu], holdNs, handoffNs);

    public override long CrossCall(int cpu, long sendNs, long callbackNs, long localNs, int mask, bool refill)
    {
        CallRound round = host.CallFunctionMany(cpu, sendNs, callbackNs, clocks, mask, refill);
        return Math.Max(0, round.DoneNs - (sendNs + localNs));
    }

    public override void Latency(int cpu, int histogram, long latencyNs, ILatencySink direct)
    {
        // The path ran alone: what delayed it is already on its clock, so service = elapsed.
        host.SetInPath(cpu, false);
        direct.Record(cpu, histogram, latencyNs, latencyNs);
    }
}

/// <summary>The logged timeline of quantum mode: every effect appended to its CPU's log (events
/// too, as an <see cref="ISimEventSink"/>), for the weave.</summary>
internal sealed class LoggedEffects(CpuClocks clocks, QuantumLog[] logs) : OrderedEffects, ISimEventSink
{
    public override void Enter(int cpu) => logs[cpu].Add(new QuantumEntry(QuantumKind.Enter, clocks[cpu], 0, 0, 0));

    public override int Mark(int cpu) => logs[cpu].Count;

    public override long Hold(int cpu, int mark, int lockId, long holdNs, long handoffNs)
    {
        ref long clock = ref clocks[cpu];
        logs[cpu].Insert(mark, new QuantumEntry(QuantumKind.Lock, clock, holdNs, handoffNs, lockId));
        clock += holdNs;
        return 0;
    }

    public override long CrossCall(int cpu, long sendNs, long callbackNs, long localNs, int mask, bool refill)
    {
        logs[cpu].Add(new QuantumEntry(QuantumKind.CrossCall, sendNs, callbackNs, localNs, mask | (refill ? HostCpus.RefillBit : 0)));
        return 0;
    }

    public override void Latency(int cpu, int histogram, long latencyNs, ILatencySink direct) =>
        logs[cpu].Add(new QuantumEntry(QuantumKind.Latency, clocks[cpu], latencyNs, 0, histogram));

    public void Emit(in SimEvent e) =>
        logs[e.Cpu].Add(new QuantumEntry(QuantumKind.Event, e.TimeNs, e.Pfn, e.Extra, (int)e.Kind));
}
