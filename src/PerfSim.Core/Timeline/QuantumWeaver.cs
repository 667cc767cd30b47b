using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PerfSim.Core.Events;

namespace PerfSim.Core.Timeline;

/// <summary>Receives a path's latency once the weave knows every wait and interruption inside it:
/// each CPU's in its order, different CPUs' in no set order.</summary>
public interface ILatencySink
{
    /// <summary><paramref name="serviceNs"/>: the path's own work (its CPU's clock advance, lock
    /// holds included); <paramref name="elapsedNs"/>: as the caller sees it, with lock waits,
    /// interrupt handlers and VM exits on its CPU, and its flushes' waits for their slowest target.</summary>
    void Record(int cpu, int histogram, long serviceNs, long elapsedNs);
}

/// <summary>
/// The weave of quantum mode (docs/engine.md): each CPU's quantum log (lock acquisitions, path
/// entries and latencies, cross-CPU calls, events, in the CPU's own order) becomes, at
/// <see cref="Close"/>, the input of <see cref="WeaveClosed"/>, which applies the entries of all CPUs
/// in simulated-time order (time + the delays found so far, then CPU). Lock waits, the interrupts a
/// cross-CPU call lands on its targets (<see cref="HostCpus"/>) and the initiator's wait for them
/// move the CPU's later entries; latencies are recorded with every delay inside them; events reach
/// the sink in time order with corrected stamps. Entries beyond the quantum are carried to the next
/// weave, so order is exact across quanta. The delays found reach the CPU's clock through
/// <see cref="Settle(int, out long)"/>.
/// </summary>
/// <remarks>It knows nothing of the kernel: tests feed it canned logs. It reads and writes only the
/// closed logs, its own side of each lane, the lock table and the sinks, none of which a round
/// touches, so it may run on one host thread while the others run the next quantum's first round.</remarks>
public sealed class QuantumWeaver : IInterruptSink
{
    private readonly QuantumLog[] _logs;
    private readonly QuantumLane[] _lanes;

    /// <summary>Per CPU, the hot part of its side of the weave, as arrays (a cross call delays
    /// nearly every CPU at once: a vector of CPUs per step), padded to a whole number of vectors:
    /// the key its next ordered entry is due at ((time &lt;&lt; 10) | cpu; <see cref="long.MaxValue"/>: none), the delay this
    /// weave found, that delay when the CPU entered its current path (the path's share is the
    /// difference, so a loss lands on one array, not two), and when the lock it took last is
    /// released (in delayed time: an interrupt while it spins for the lock does not lengthen the hold).</summary>
    private readonly long[] _keys;
    private readonly long[] _delayNs;
    private readonly long[] _pathEntryDelayNs;
    private readonly long[] _heldUntilNs;

    /// <summary>Per CPU, when it got the lock it took last if an interrupt lengthens that lock's
    /// hold (<see cref="SimLockTable.TakenWithIrqsOn"/>), else <see cref="long.MaxValue"/>: with
    /// <see cref="_heldUntilNs"/>, a vector test of who holds such a lock now.</summary>
    private readonly long[] _irqsOnHeldFromNs;

    /// <summary>Per CPU, the key of its next entry when that is a path entry or latency not applied
    /// yet (<see cref="long.MaxValue"/>: none), moved by delays as <see cref="_keys"/> is.</summary>
    private readonly long[] _pendingKeys;

    /// <summary>Quanta closed and woven since the start (written by the closer and the weave
    /// respectively), and where each closed quantum not yet woven ends (by quantum number mod
    /// <see cref="Slots"/>).</summary>
    private int _closes;
    private int _weaves;
    private readonly long[] _untilNs = new long[Slots];

    /// <summary><see cref="Span"/>, and its value at each closed quantum not yet woven (by number mod <see cref="Slots"/>).</summary>
    private int _span;
    private readonly int[] _spanOf = new int[Slots];

    /// <summary>The time of the entry being applied (a delay found then extends a lock held past it).</summary>
    private long _now;

    // Padding after _now, written for every entry woven: the array of logs, which every lane reads
    // at each entry it logs, is allocated right after this object, and sharing a line with _now
    // cost two-thread runs 15-25% (1.08-1.21 against 1.31-1.45 M faults/s, three interleaved runs
    // each). The runtime lays out a class's references, then its 8-byte fields in declaration
    // order, then the smaller ones, so these sit between _now and everything after it.
#pragma warning disable CS0169, IDE0051 // padding
    private readonly long _pad0, _pad1, _pad2, _pad3, _pad4, _pad5, _pad6, _pad7;
#pragma warning restore CS0169, IDE0051

    public QuantumWeaver(int cpus, SimLockTable locks, HostCpus host, int depth = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cpus, MaxCpus);
        ArgumentNullException.ThrowIfNull(locks);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(depth, Slots - 1);
        Locks = locks;
        Host = host;
        Depth = depth;
        _logs = new QuantumLog[cpus];
        _lanes = new QuantumLane[cpus];
        var buffers = new EntryBuffers(cpus);
        // Logs first, then lanes: a CPU's log (written by its round) must not sit next to a lane
        // (written by the weave on another thread); auto layout may put a log's counts after its padding.
        for (int c = 0; c < cpus; c++)
        {
            _logs[c] = new QuantumLog(buffers);
        }

        for (int c = 0; c < cpus; c++)
        {
            _lanes[c] = new QuantumLane(depth, buffers);
        }

        int padded = PadToScan(cpus);
        _keys = new long[padded];
        _delayNs = new long[padded];
        _pathEntryDelayNs = new long[padded];
        _heldUntilNs = new long[padded];
        _irqsOnHeldFromNs = new long[padded];
        _pendingKeys = new long[padded];
        Array.Fill(_keys, long.MaxValue);
        Array.Fill(_pendingKeys, long.MaxValue);
        Array.Fill(_irqsOnHeldFromNs, long.MaxValue);
    }

    /// <summary>Weave keys hold the CPU in 10 bits.</summary>
    public const int MaxCpus = 1024;

    /// <summary>Weaves' delays a lane keeps until settled, and the ends of closed quanta, by number
    /// mod this (a power of two above the deepest <see cref="Depth"/>; a lane's closed logs need
    /// only <see cref="Depth"/> slots).</summary>
    internal const int Slots = 4;

    /// <summary>How many quanta may be closed and not woven: a quantum closes once the weave of the
    /// one <see cref="Depth"/> before it is done, and <see cref="Settle(int, int, out long)"/> then
    /// brings that weave's delays to the clocks. 1: each weave must end before the next close.</summary>
    public int Depth { get; }

    /// <summary>Quanta closed since the start (the next close's number).</summary>
    public int Closes => _closes;

    /// <summary>Weaves done since the start (written by the weaving thread).</summary>
    public int Weaves => Volatile.Read(ref _weaves);

    /// <summary>Weave keys hold times below 2^53 ns (the weave of a phase's end weaves up to <see cref="long.MaxValue"/>).</summary>
    private const long MaxTimeNs = 1L << 53;

    public SimLockTable Locks { get; }

    /// <summary>Host CPU states and call queues: what a logged cross-CPU call costs whom.</summary>
    public HostCpus Host { get; }

    /// <summary>Receives woven latencies (null: dropped).</summary>
    public ILatencySink? Latencies { get; set; }

    /// <summary>Receives woven events in time order (null: dropped).</summary>
    public ISimEventSink? Events { get; set; }

    /// <summary>True while a closed quantum waits for <see cref="WeaveClosed"/>.</summary>
    public bool HasClosed => _closes > Weaves;

    /// <summary>Each CPU's log of the current quantum (its bound phase appends to its own).</summary>
    internal QuantumLog[] Logs => _logs;

    /// <summary>Ends a quantum that ends at <paramref name="endNs"/>: every CPU's log becomes the
    /// input of a later weave (after what earlier weaves carried), and starts afresh. The closing
    /// thread only; it may run beside the weave of an earlier quantum (<see cref="Depth"/> above 1).</summary>
    public void Close(long endNs)
    {
        if (_closes - Weaves >= Depth)
        {
            throw new InvalidOperationException($"the quantum closed {Depth} before is not woven yet");
        }

        // Only the CPUs that log or are interrupted have a lane to keep: the rest cost a read each.
        int span = Math.Max(_span, Host.ActorSpan);
        for (int c = 0; c < _logs.Length; c++)
        {
            QuantumLog log = _logs[c];
            if (c >= span && !log.IsIdle)
            {
                span = c + 1;
            }
        }

        for (int c = _span; c < span; c++)
        {
            // Its first weave is this quantum's (the ones before it did not reach it).
            _lanes[c].SkipSettled(_closes);
        }

        _span = span;
        for (int c = 0; c < span; c++)
        {
            _lanes[c].TakeLog(_logs[c], _closes);
        }

        _untilNs[_closes & (Slots - 1)] = endNs;
        _spanOf[_closes & (Slots - 1)] = span;
        _closes++;
    }

    /// <summary>The CPUs whose lanes the weaves reach lie below this (closer's side): those that
    /// logged an entry or were interrupted at some close. A close settles these only
    /// (<see cref="Settle(int, int, out long)"/>); the others' lanes never hold entries or delays.</summary>
    public int Span => _span;

    /// <summary>Weaves the oldest quantum <see cref="Close"/> closed and not woven, if any. One
    /// thread at a time, in order.</summary>
    public void WeaveClosed()
    {
        int weave = _weaves;
        if (weave < _closes)
        {
            Weave(_untilNs[weave & (Slots - 1)], _spanOf[weave & (Slots - 1)], weave);
            Volatile.Write(ref _weaves, weave + 1);
        }
    }

    /// <summary>The delays of every weave done that <paramref name="cpu"/>'s clock does not have yet,
    /// for its clock, and the <c>cpa_lock</c> waits among them, for its counters (with nothing
    /// weaving). Call it after the <see cref="Close"/> of the log written on that clock.</summary>
    public long Settle(int cpu, out long cpaLockWaitNs) => Settle(cpu, Weaves, out cpaLockWaitNs);

    /// <summary>The same for the first <paramref name="weaves"/> weaves only (all done), which may
    /// run beside a later weave: what reaches a clock at a close depends on the quantum's number,
    /// never on how far a weave on another thread has got.</summary>
    public long Settle(int cpu, int weaves, out long cpaLockWaitNs)
    {
        if (weaves > Weaves)
        {
            throw new InvalidOperationException($"weave {weaves} is not done yet");
        }

        // The next entries the CPU logs store their times less all that is now on its clock.
        QuantumLog log = _logs[cpu];
        Debug.Assert(log.Count == 0, "settled while its log holds entries logged before");
        QuantumLane lane = _lanes[cpu];
        long delay = lane.SettleDelays(weaves, out cpaLockWaitNs);
        log.BaseNs = lane.SettledNs;
        return delay;
    }

    /// <summary>
    /// Applies every closed entry whose time (plus the delays found before it) is below
    /// <paramref name="untilNs"/>, all CPUs' in simulated-time order; carries the rest.
    /// </summary>
    /// <remarks>
    /// <para><b>Ordered entries</b> (locks, cross calls, events) go in (time, cpu) order across CPUs:
    /// a cross call delays other CPUs, so whether a lock acquisition comes after it depends on times
    /// across CPUs. The CPUs' next ordered keys sit in one array indexed by CPU, each kept exact as
    /// delays land (<see cref="IInterruptSink.Interrupted"/> adds to them, a vector of CPUs at a
    /// time); each step takes the two smallest in one vector pass over the CPUs up to the last one
    /// with entries. A binary heap did worse: a cross call delays nearly every CPU, so its keys
    /// went stale together and were re-keyed and re-heapified once per fault.</para>
    /// <para><b>Path entries and latencies</b> touch only their own CPU's side and what a cross call
    /// reads there (whether a host path runs), so they are applied lazily, each still at its place
    /// in that order: before the CPU's next ordered entry, before another CPU's cross call that
    /// comes after it (<see cref="ApplyPendingBefore"/>), or at the end. Two of a fault's five
    /// entries so stay out of the key scan (4.9 scans per fault became 3). A CPU's entries go in
    /// its log's order, which is time order apart from what a lock hold logged inside it
    /// (<see cref="QuantumLog.Insert"/>): an entry logged earlier in time than one before it takes
    /// that one's place in the order, as it did when every entry was ordered.</para>
    /// </remarks>
    private void Weave(long untilNs, int span, int weave)
    {
        QuantumLane[] lanes = _lanes;

        // Keys (time << 10) | cpu: times < 2^53 ns, cpus < 1024; long.MaxValue: none due (as
        // every key past the span stays). The scans cover the CPUs up to the last one with
        // entries (vCPUs sit on the low CPUs).
        _keys.AsSpan(0, PadToScan(span)).Fill(long.MaxValue);
        _pendingKeys.AsSpan(0, PadToScan(span)).Fill(long.MaxValue);
        int end = 0;
        for (int c = 0; c < span; c++)
        {
            QuantumLane lane = lanes[c];
            lane.Absorb(weave);
            if (lane.HasNext)
            {
                lane.SeekOrdered();
                _keys[c] = Rekey(c, lane, untilNs);
                end = c + 1;
            }
        }

        Span<long> keys = _keys.AsSpan(0, PadToScan(end));
        while (true)
        {
            // A key set below the end may have been moved past it by a delay since.
            long key = TwoSmallest(keys, out long second);
            if (key == long.MaxValue || (key >> 10) >= untilNs)
            {
                break;
            }

            int cpu = (int)(key & 1023);
            QuantumLane lane = lanes[cpu];

            // Run the lane while its next ordered entry still comes first: delays found meanwhile
            // only move other CPUs' keys later, so the second smallest stays a safe bound.
            do
            {
                ApplyPending(cpu, lane, long.MaxValue);
                long time = NextTime(cpu, lane);
                _now = time;
                ref QuantumEntry e = ref lane.Next;
                if (e.Kind == QuantumKind.CrossCall)
                {
                    ApplyPendingBefore(key, keys.Length);
                }

                Apply(cpu, lane, in e, time);
                lane.Head++;
                lane.SeekOrdered();

                // An entry logged out of time order comes just after the one before it.
                key = Math.Max(Rekey(cpu, lane, untilNs), key);
            }
            while (key < second);

            keys[cpu] = key;
        }

        for (int c = 0; c < span; c++)
        {
            ApplyPending(c, lanes[c], untilNs < MaxTimeNs ? (untilNs << 10) | (long)c : long.MaxValue);
            lanes[c].Carry(_delayNs[c], weave);
            _pathEntryDelayNs[c] -= _delayNs[c];
            _delayNs[c] = 0;
        }
    }

    /// <summary>The next entry's time on <paramref name="cpu"/> with every delay found so far.</summary>
    private long NextTime(int cpu, QuantumLane lane) => lane.NextTimeBeforeWeave + _delayNs[cpu];

    /// <summary>After the CPU's input moved: its pending key (<see cref="_pendingKeys"/>) and the key
    /// its next ordered entry is applied at, returned (<see cref="long.MaxValue"/>: none before
    /// <paramref name="untilNs"/>): the latest of its own and the pending entries' before it (a CPU's
    /// entries go in its order, so one logged out of time order waits for those before it).</summary>
    private long Rekey(int cpu, QuantumLane lane, long untilNs)
    {
        RefreshPendingKey(cpu, lane);
        if (lane.OrderedHead == lane.Count)
        {
            return long.MaxValue;
        }

        long time = lane.RunMaxTimeBeforeWeave + _delayNs[cpu];
        return time < untilNs ? (time << 10) | (long)cpu : long.MaxValue;
    }

    /// <summary>Applies the CPU's pending path entries and latencies whose keys are below
    /// <paramref name="beforeKey"/>, up to its next ordered entry.</summary>
    private void ApplyPending(int cpu, QuantumLane lane, long beforeKey)
    {
        if (lane.Head == lane.OrderedHead)
        {
            return;
        }

        while (lane.Head < lane.OrderedHead)
        {
            long time = NextTime(cpu, lane);
            if (((time << 10) | (long)cpu) >= beforeKey)
            {
                break;
            }

            Apply(cpu, lane, in lane.Next, time);
            lane.Head++;
        }

        RefreshPendingKey(cpu, lane);
    }

    /// <summary>The key of the CPU's next pending path entry or latency (<see cref="long.MaxValue"/>: its next entry is ordered).</summary>
    private void RefreshPendingKey(int cpu, QuantumLane lane) =>
        _pendingKeys[cpu] = lane.Head < lane.OrderedHead ? (NextTime(cpu, lane) << 10) | (long)cpu : long.MaxValue;

    /// <summary>Before a cross call of key <paramref name="key"/>: the pending entries that come
    /// before it of the first <paramref name="cpus"/> CPUs (those the weave scans; the call reads
    /// whether each target runs a host path, and delays what follows).</summary>
    private void ApplyPendingBefore(long key, int cpus)
    {
        // One mask of the CPUs concerned, then a visit to each: a branch per vector of CPUs
        // mispredicted about as often as it was taken.
        Vector256<long> bound = Vector256.Create(key);
        for (int i = 0; i < cpus; i += 64)
        {
            ulong due = 0;
            for (int j = 0; j < 64 && i + j < cpus; j += KeyWidth)
            {
                due |= (ulong)Vector256.LessThan(Load(_pendingKeys, i + j), bound).ExtractMostSignificantBits() << j;
            }

            for (; due != 0; due &= due - 1)
            {
                int c = i + BitOperations.TrailingZeroCount(due);
                ApplyPending(c, _lanes[c], key);
            }
        }
    }

    /// <summary>Keys compared per vector step.</summary>
    private static int KeyWidth => Vector256<long>.Count;

    /// <summary><paramref name="cpus"/> rounded up to the keys <see cref="TwoSmallest"/> reads per step.</summary>
    private static int PadToScan(int cpus) => (cpus + (2 * KeyWidth) - 1) / (2 * KeyWidth) * 2 * KeyWidth;

    /// <summary>The smallest key of <paramref name="keys"/> (a multiple of two vectors long) and, in
    /// <paramref name="second"/>, the next smallest.</summary>
    /// <remarks>Two vectors per step in two independent chains: each min depends on the previous
    /// one, so one chain waits on the min's latency at every step.</remarks>
    private static long TwoSmallest(ReadOnlySpan<long> keys, out long second)
    {
        Vector256<long> minA = Vector256.Create(long.MaxValue);
        Vector256<long> nextA = minA;
        Vector256<long> minB = minA;
        Vector256<long> nextB = minA;
        for (int i = 0; i < keys.Length; i += 2 * KeyWidth)
        {
            Vector256<long> a = Vector256.Create(keys.Slice(i, KeyWidth));
            Vector256<long> b = Vector256.Create(keys.Slice(i + KeyWidth, KeyWidth));
            nextA = Vector256.Min(nextA, Vector256.Max(minA, a));
            minA = Vector256.Min(minA, a);
            nextB = Vector256.Min(nextB, Vector256.Max(minB, b));
            minB = Vector256.Min(minB, b);
        }

        // Per column, the two smallest of both chains; then of the columns, two by two, in
        // vectors. Scalar minima were compiled to a branch each by tiered PGO (the benchmark's
        // setting; a tenth of the weave's samples went to them), and to cmov by the full JIT
        // (the CLI's): in vectors both compile alike.
        Vector256<long> min = Vector256.Min(minA, minB);
        Vector256<long> next = Vector256.Min(Vector256.Min(nextA, nextB), Vector256.Max(minA, minB));
        MergeTwoSmallest(ref min, ref next, Vector256.Shuffle(min, Vector256.Create(2L, 3, 0, 1)), Vector256.Shuffle(next, Vector256.Create(2L, 3, 0, 1)));
        MergeTwoSmallest(ref min, ref next, Vector256.Shuffle(min, Vector256.Create(1L, 0, 3, 2)), Vector256.Shuffle(next, Vector256.Create(1L, 0, 3, 2)));
        second = next.ToScalar();
        return min.ToScalar();
    }

    /// <summary>Per column, the two smallest of the pairs (<paramref name="min"/>, <paramref name="next"/>)
    /// and (<paramref name="otherMin"/>, <paramref name="otherNext"/>), each pair's first at most its second.</summary>
    private static void MergeTwoSmallest(ref Vector256<long> min, ref Vector256<long> next, Vector256<long> otherMin, Vector256<long> otherNext)
    {
        next = Vector256.Min(Vector256.Max(min, otherMin), Vector256.Min(next, otherNext));
        min = Vector256.Min(min, otherMin);
    }

    private void Apply(int cpu, QuantumLane lane, in QuantumEntry e, long time)
    {
        switch (e.Kind)
        {
            case QuantumKind.Enter:
                _pathEntryDelayNs[cpu] = _delayNs[cpu];
                Host.SetInPath(cpu, true);
                break;

            case QuantumKind.Lock:
            {
                long at = time;
                long wait = Locks[e.Id].Hold(ref at, e.A, e.B);
                _delayNs[cpu] += wait;
                lane.HeldLock = e.Id;
                lane.HeldFromNs = at - e.A;
                _heldUntilNs[cpu] = at;
                _irqsOnHeldFromNs[cpu] = SimLockTable.TakenWithIrqsOn(e.Id) ? lane.HeldFromNs : long.MaxValue;
                if (e.Id == SimLockTable.CpaLock)
                {
                    // Kept on the weave's side: the CPU's counters share lines with what its round writes.
                    lane.CpaLockWaitNs += wait;
                }

                break;
            }

            case QuantumKind.CrossCall:
            {
                // The lane charged e.B (the local part) from e.TimeNs; the call ends when every target ran it.
                CallRound round = Host.CallFunctionMany(cpu, time, e.A, this, e.Id & ~HostCpus.RefillBit, (e.Id & HostCpus.RefillBit) != 0);
                Delay(cpu, Math.Max(0, round.DoneNs - (time + e.B)), extendsAnyLock: true);
                break;
            }

            case QuantumKind.Latency:
                Host.SetInPath(cpu, false);
                Latencies?.Record(cpu, e.Id, e.A, e.A + _delayNs[cpu] - _pathEntryDelayNs[cpu]);
                break;
            default:
                Events?.Emit(new SimEvent(time, e.A, e.B, cpu, (SimEventKind)e.Id));
                break;
        }
    }

    void IInterruptSink.Interrupted(ReadOnlySpan<int> cpus, ReadOnlySpan<long> ns)
    {
        // HostCpus lists the CPUs in order and the vCPUs sit together: four consecutive CPUs take
        // one vector step, any other CPU a step of its own. The vector steps call nothing (a call
        // spills every vector register): they note which CPUs hold a lock an interrupt lengthens,
        // and those locks are extended after.
        Span<long> delays = _delayNs;
        Span<long> keys = _keys;
        Span<long> pendingKeys = _pendingKeys;
        ReadOnlySpan<long> heldUntil = _heldUntilNs;
        ReadOnlySpan<long> irqsOnHeldFrom = _irqsOnHeldFromNs;
        Vector256<long> now = Vector256.Create(_now);
        Vector256<long> none = Vector256.Create(long.MaxValue);
        int i = 0;
        while (i < cpus.Length)
        {
            // Up to 64 CPUs' vector steps, then the locks their holders' interrupts lengthen.
            int from = i;
            ulong holders = 0;
            while (i - from <= 64 - KeyWidth && i + KeyWidth <= cpus.Length && cpus[i + KeyWidth - 1] - cpus[i] == KeyWidth - 1)
            {
                int c = cpus[i];
                Vector256<long> lost = Vector256.Create(ns.Slice(i, KeyWidth));
                (Vector256.Create(delays.Slice(c, KeyWidth)) + lost).CopyTo(delays.Slice(c, KeyWidth));
                Vector256<long> key = Vector256.Create(keys.Slice(c, KeyWidth));
                Vector256.ConditionalSelect(Vector256.Equals(key, none), key, key + (lost << 10)).CopyTo(keys.Slice(c, KeyWidth));
                Vector256<long> pending = Vector256.Create(pendingKeys.Slice(c, KeyWidth));
                Vector256.ConditionalSelect(Vector256.Equals(pending, none), pending, pending + (lost << 10)).CopyTo(pendingKeys.Slice(c, KeyWidth));
                // Who holds (granted, not still spinning) a lock an interrupt lengthens.
                Vector256<long> holds = Vector256.GreaterThan(Vector256.Create(heldUntil.Slice(c, KeyWidth)), now) & Vector256.GreaterThanOrEqual(now, Vector256.Create(irqsOnHeldFrom.Slice(c, KeyWidth)));
                holders |= (ulong)holds.ExtractMostSignificantBits() << (i - from);
                i += KeyWidth;
            }

            for (; holders != 0; holders &= holders - 1)
            {
                int j = from + BitOperations.TrailingZeroCount(holders);
                ExtendHeldLock(cpus[j], ns[j], extendsAnyLock: false);
            }

            if (i == from)
            {
                int c = cpus[i];
                Delay(c, ns[i], extendsAnyLock: false);
                if (keys[c] != long.MaxValue)
                {
                    keys[c] += ns[i] << 10;
                }

                if (pendingKeys[c] != long.MaxValue)
                {
                    pendingKeys[c] += ns[i] << 10;
                }

                i++;
            }
        }
    }

    private static Vector256<long> Load(long[] array, int index) => Vector256.Create(array.AsSpan(index, KeyWidth));

    /// <summary>Moves a CPU's later entries by <paramref name="ns"/>, inside its current path's
    /// latency, and past the end of a lock it holds now (<see cref="ExtendHeldLock"/>).</summary>
    private void Delay(int cpu, long ns, bool extendsAnyLock)
    {
        _delayNs[cpu] += ns;
        if (_now < _heldUntilNs[cpu])
        {
            ExtendHeldLock(cpu, ns, extendsAnyLock);
        }
    }

    /// <summary>A delay while the CPU holds a lock (granted, not still spinning) moves its release:
    /// its own wait always; an interrupt only for a lock taken with interrupts on (<c>cpa_lock</c>,
    /// <c>pgtable_split_lock</c>: <c>spin_lock</c>; an <c>i_pages</c> lock is <c>xas_lock_irq</c>, so
    /// the interrupt waits for its release).</summary>
    private void ExtendHeldLock(int cpu, long ns, bool extendsAnyLock)
    {
        QuantumLane lane = _lanes[cpu];
        if (lane.HeldLock >= 0 && _now >= lane.HeldFromNs && (extendsAnyLock || SimLockTable.TakenWithIrqsOn(lane.HeldLock)))
        {
            Locks[lane.HeldLock].FreeAtNs += ns;
            _heldUntilNs[cpu] += ns;
        }
    }
}

internal enum QuantumKind : byte
{
    Enter,
    Lock,
    Latency,
    Event,

    /// <summary><c>smp_call_function_many_cond</c>: A = each callback's ns on its target, B = what the
    /// initiator charged itself from the entry's time (its local part), Id = the cpumask's id
    /// (<see cref="HostCpus.MaskId"/>; <see cref="HostCpus.AllOthers"/>: every other CPU), with
    /// <see cref="HostCpus.RefillBit"/> when the targets refill their TLBs after it.</summary>
    CrossCall,
}

/// <summary>One logged entry: <see cref="TimeNs"/> is the CPU's clock when it was logged (before
/// the delays not yet on it); A/B/Id by kind (lock: hold, handoff, lock id (i_pages: 2 + mapping);
/// latency: ns, histogram; event: pfn, extra, kind; cross call: callback ns, local ns, mask id).</summary>
/// <remarks>24 bytes: B in 32 bits, the kind in the top 4 bits of the id's word. The logs cross from
/// the core that wrote them to the one that weaves them, five entries per fault, and a vCPU's weave
/// input is about sixteen quanta of its entries deep (docs/engine.md, "Speed"), so every byte counts
/// sixteen times in the weave's working set.</remarks>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct QuantumEntry : IEquatable<QuantumEntry>
{
    /// <summary>The largest id an entry holds (the kind takes the word's top 4 bits).</summary>
    public const int MaxId = (1 << 28) - 1;

    public readonly long TimeNs;
    public readonly long A;
    private readonly int _b;
    private readonly int _kindAndId;

    public QuantumEntry(QuantumKind kind, long timeNs, long a, long b, int id)
    {
        // The throws sit in helpers so that the constructor inlines into the lanes' appends.
        if ((uint)id > MaxId)
        {
            ThrowIdOutOfRange(id);
        }

        if (b is < int.MinValue or > int.MaxValue)
        {
            ThrowBOutOfRange(b);
        }

        TimeNs = timeNs;
        A = a;
        _b = (int)b;
        _kindAndId = ((int)kind << 28) | id;
    }

    private QuantumEntry(long timeNs, long a, int b, int kindAndId)
    {
        TimeNs = timeNs;
        A = a;
        _b = b;
        _kindAndId = kindAndId;
    }

    [DoesNotReturn]
    private static void ThrowIdOutOfRange(int id) =>
        throw new ArgumentOutOfRangeException(nameof(id), id, $"a log entry's id is from 0 to {MaxId}");

    [DoesNotReturn]
    private static void ThrowBOutOfRange(long b) =>
        throw new ArgumentOutOfRangeException(nameof(b), b, "a log entry's B is a 32-bit value");

    public QuantumKind Kind => (QuantumKind)((uint)_kindAndId >> 28);

    public long B => _b;

    public int Id => _kindAndId & MaxId;

    /// <summary>The same entry at <paramref name="timeNs"/>.</summary>
    public QuantumEntry WithTime(long timeNs) => new(timeNs, A, _b, _kindAndId);

    public static bool operator ==(QuantumEntry left, QuantumEntry right) => left.Equals(right);

    public static bool operator !=(QuantumEntry left, QuantumEntry right) => !left.Equals(right);

    public bool Equals(QuantumEntry other) => TimeNs == other.TimeNs && A == other.A && _b == other._b && _kindAndId == other._kindAndId;

    public override bool Equals(object? obj) => obj is QuantumEntry other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(TimeNs, A, _b, _kindAndId);

    public override string ToString() => $"{Kind} at {TimeNs}: {A}, {B}, {Id}";
}

/// <summary>A ranged flush's invalidation of the other CPUs' TLBs: <see cref="Zap"/> 0 (not
/// closing a zap), 1 (zap), 2 (zap of a page the initiator held).</summary>
internal readonly record struct RemoteInvalidation(long Pfn, long Pages, int Zap);

/// <summary>What one CPU's steps log in the current quantum (on its own cache lines: neighbouring
/// CPUs' logs are written by different host threads).</summary>
/// <remarks>The buffers are reused every quantum, and the core that wove or closed the last one
/// read them, so each line the lane writes again must first be taken back from that core. Left to
/// the log's appends, that is one stall per line, in the middle of a fault; so the quantum's first
/// append claims, in one run of stores, as many lines as the last quantum used
/// (<see cref="ClaimLines"/>): their transfers overlap instead.</remarks>
internal sealed class QuantumLog(EntryBuffers buffers)
{
    public QuantumEntry[] Entries = new QuantumEntry[16];
    public int Count;

    /// <summary>The delays the weave found that its CPU's clock has (<see cref="QuantumLane.SettleDelays"/>
    /// keeps it): an entry stores its time less this, the time the weave reads it at before the
    /// delays it finds later, so the closed log joins the weave's input as it is (one block copy).</summary>
    public long BaseNs;

    /// <summary>The quantum's remote invalidations, applied when it closes.</summary>
    public RemoteInvalidation[] Invalidations = new RemoteInvalidation[4];
    public int InvalidationCount;

    /// <summary>A hardware cache line, the unit a claim takes (<see cref="Memory.NativeArena.CacheLine"/>
    /// is a padding distance of two lines, for the adjacent-line prefetcher).</summary>
    private const int LineBytes = 64;

    /// <summary>Entries and invalidations the last closed quantum logged: what the next one claims.</summary>
    private int _lastCount;
    private int _lastInvalidations;

#pragma warning disable CS0169, IDE0051 // padding
    private readonly long _pad0, _pad1, _pad2, _pad3, _pad4, _pad5, _pad6, _pad7;
#pragma warning restore CS0169, IDE0051

    /// <summary>Appends <paramref name="e"/>, logged at its CPU's clock.</summary>
    public void Add(in QuantumEntry e)
    {
        Debug.Assert(Count == 0 || e.TimeNs - BaseNs >= Entries[Count - 1].TimeNs, "a CPU's log must stay in time order");
        EnsureRoom();
        Entries[Count++] = e.WithTime(e.TimeNs - BaseNs);
    }

    /// <summary>Inserts at <paramref name="index"/> (entries logged after it move up one).</summary>
    public void Insert(int index, in QuantumEntry e)
    {
        EnsureRoom();
        if (index < Count)
        {
            Array.Copy(Entries, index, Entries, index + 1, Count - index);
        }

        Entries[index] = e.WithTime(e.TimeNs - BaseNs);
        Count++;
    }

    public void AddInvalidation(in RemoteInvalidation r)
    {
        if (InvalidationCount == 0)
        {
            ClaimLines(Invalidations, _lastInvalidations);
        }

        if (InvalidationCount == Invalidations.Length)
        {
            Array.Resize(ref Invalidations, InvalidationCount * 2);
        }

        Invalidations[InvalidationCount++] = r;
    }

    /// <summary>Nothing logged in this quantum or the last: its close would change nothing.</summary>
    public bool IsIdle => (Count | InvalidationCount | _lastCount | _lastInvalidations) == 0;

    /// <summary>The quantum is closed: its entries went to the weave (<paramref name="next"/>, the
    /// buffer the weave is done with, takes them from here) and its invalidations were applied.</summary>
    public void Restart(QuantumEntry[] next)
    {
        _lastCount = Count;
        _lastInvalidations = InvalidationCount;
        Entries = next;
        Count = 0;
        InvalidationCount = 0;
    }

    private void EnsureRoom()
    {
        if (Count == 0)
        {
            ClaimLines(Entries, _lastCount);
        }

        if (Count == Entries.Length)
        {
            Entries = buffers.Grow(Entries, 0, Count, Count * 2);
        }
    }

    /// <summary>Writes the first <paramref name="count"/> elements' lines (nothing reads an element
    /// before the log writes it): a store per 64-byte line, the lines' transfers in flight together.</summary>
    private static void ClaimLines<T>(T[] buffer, int count)
        where T : struct
    {
        int step = Math.Max(1, LineBytes / Unsafe.SizeOf<T>());
        for (int i = 0, n = Math.Min(count, buffer.Length); i < n; i += step)
        {
            buffer[i] = default;
        }
    }
}

/// <summary>One CPU's side of the weave: the closed log it reads and the delays it found. Only the
/// weave touches it (<see cref="QuantumWeaver"/>).</summary>
/// <remarks>A lane that delays pile up on lags its log by several quanta (32 vCPUs on 64 CPUs:
/// ~9 entries carried per entry woven), so its input is one array: the weave first appends the
/// closed log to the entries carried from before (<see cref="Absorb"/>), and carried entries stay
/// where they are: their stored times are relative to <see cref="_shift"/>, which each weave's
/// delay moves at once. One array, not the carried entries and the closed log side by side, so
/// reading an entry takes no branch (the weave reads each several times).</remarks>
internal sealed class QuantumLane
{
    /// <summary>The weave's input: <see cref="_entries"/> [<see cref="_start"/>, <see cref="_end"/>),
    /// times stored less <see cref="_shift"/>; the closed quanta's logs wait in <see cref="_closed"/>
    /// until <see cref="Absorb"/>.</summary>
    private QuantumEntry[] _entries = new QuantumEntry[16];
    private int _start;
    private int _end;
    private long _shift;

    /// <summary>Closed logs not yet absorbed, by quantum (slot = quantum number mod
    /// <see cref="QuantumWeaver.Depth"/>): the close fills a slot, the weave of that quantum empties
    /// it. A slot is filled again only after the weave of its last quantum (the close waits for
    /// the weave <see cref="QuantumWeaver.Depth"/> quanta back), so the two never touch one at once;
    /// with the log's own buffer, depth + 1 buffers circulate.</summary>
    private readonly ClosedLog[] _closed;

    /// <summary>Delays and <c>cpa_lock</c> waits each weave found, by weave number mod
    /// <see cref="QuantumWeaver.Slots"/>, until settled (summed and cleared).</summary>
    private readonly long[] _wovenDelayNs = new long[QuantumWeaver.Slots];
    private readonly long[] _wovenCpaLockWaitNs = new long[QuantumWeaver.Slots];

    /// <summary>Weaves settled, and all they delayed: on the CPU's clock (the closer's side).</summary>
    private int _settledWeaves;
    private long _settledNs;

    /// <summary>All the settled weaves delayed the CPU (<see cref="QuantumLog.BaseNs"/>).</summary>
    public long SettledNs => _settledNs;

    /// <summary>The next input entry the weave applies (relative to the first not yet woven).</summary>
    public int Head;

    /// <summary>Waits for <c>cpa_lock</c> the current weave found.</summary>
    public long CpaLockWaitNs;

    /// <summary>The lock this CPU took last (−1: none yet) and when it got it, in delayed time
    /// (when it releases it: the weave's <c>_heldUntilNs</c>).</summary>
    public int HeldLock = -1;
    public long HeldFromNs;

    /// <summary>The first input entry at or after <see cref="Head"/> that the weave orders across
    /// CPUs (<see cref="SeekOrdered"/>; <see cref="Count"/>: none), and the latest time (before the
    /// current weave's delays) from <see cref="Head"/> to it, both included.</summary>
    public int OrderedHead;
    public long RunMaxTimeBeforeWeave;

    private readonly EntryBuffers _buffers;

    /// <summary>A lane whose weave may fall <paramref name="depth"/> closed quanta behind.</summary>
    public QuantumLane(int depth, EntryBuffers buffers)
    {
        _closed = [.. Enumerable.Range(0, depth).Select(_ => new ClosedLog())];
        _buffers = buffers;
    }

    /// <summary>Input entries not yet woven.</summary>
    public int Count => _end - _start;

    public bool HasNext => _start + Head < _end;

    /// <summary>The next entry (its stored time is relative: read <see cref="NextTimeBeforeWeave"/>).</summary>
    public ref QuantumEntry Next => ref _entries[_start + Head];

    /// <summary>The next entry's time with every delay found before the current weave (which adds its own).</summary>
    public long NextTimeBeforeWeave => _entries[_start + Head].TimeNs + _shift;

    /// <summary>Moves <see cref="OrderedHead"/> to the first entry from <see cref="Head"/> on that is
    /// not a path entry or latency (each entry is looked at once per weave).</summary>
    public void SeekOrdered()
    {
        int i = _start + Head;
        long latest = long.MinValue;
        for (; i < _end; i++)
        {
            ref QuantumEntry e = ref _entries[i];
            latest = Math.Max(latest, e.TimeNs);
            if (e.Kind is not (QuantumKind.Enter or QuantumKind.Latency))
            {
                break;
            }
        }

        OrderedHead = i - _start;
        RunMaxTimeBeforeWeave = latest + _shift;
    }

    /// <summary>The delays (and <c>cpa_lock</c> waits among them) of the weaves up to
    /// <paramref name="weaves"/> (a count since the start) not settled yet, for the clock and the
    /// CPU's counters. Every one of them must be woven.</summary>
    public long SettleDelays(int weaves, out long cpaLockWaitNs)
    {
        long delay = 0;
        cpaLockWaitNs = 0;
        for (; _settledWeaves < weaves; _settledWeaves++)
        {
            int slot = _settledWeaves & (QuantumWeaver.Slots - 1);
            delay += _wovenDelayNs[slot];
            cpaLockWaitNs += _wovenCpaLockWaitNs[slot];
            _wovenDelayNs[slot] = 0;
            _wovenCpaLockWaitNs[slot] = 0;
        }

        _settledNs += delay;
        return delay;
    }

    /// <summary>A lane the weaves reach from weave <paramref name="weave"/> on: the ones before had
    /// nothing for it, so its settling starts there (a slot is reused every
    /// <see cref="QuantumWeaver.Slots"/> weaves: a catch-up from far back would take a later one's).</summary>
    public void SkipSettled(int weave)
    {
        Debug.Assert(_end == _start && _wovenDelayNs.All(d => d == 0) && _wovenCpaLockWaitNs.All(w => w == 0), "a lane the weaves did not reach has nothing");
        _settledWeaves = Math.Max(_settledWeaves, weave);
    }

    /// <summary>Quantum <paramref name="quantum"/>'s log becomes the weave's input (after what
    /// earlier weaves carried); the log starts afresh in the buffer the weave of the slot's last
    /// quantum is done with.</summary>
    public void TakeLog(QuantumLog log, int quantum)
    {
        ClosedLog slot = _closed[quantum % _closed.Length];
        Debug.Assert(slot.Count == 0, "the weave of the slot's last quantum did not absorb it");
        Debug.Assert(log.BaseNs == _settledNs, "the log's entries are stored less what is settled");
        QuantumEntry[] closed = log.Entries;
        slot.Count = log.Count;
        log.Restart(slot.Entries);
        slot.Entries = closed;
    }

    /// <summary>At the start of the weave of quantum <paramref name="quantum"/>: its closed log
    /// joins the input as it is: the log stored its times less the delays on the clock
    /// (<see cref="QuantumLog.BaseNs"/>), so they read back relative to <see cref="_shift"/> (every
    /// delay woven before, less those). Compacts, and grows (doubling)
    /// when the live part would fill more than 3/4: a quarter stays free, so an entry is copied
    /// O(1) times however long the backlog.</summary>
    public void Absorb(int quantum)
    {
        Debug.Assert(Head == 0, "the previous weave did not carry its input");
        ClosedLog closed = _closed[quantum % _closed.Length];
        int count = closed.Count;
        int live = _end - _start;
        if (_end + count > _entries.Length)
        {
            if (live + count > _entries.Length / 4 * 3)
            {
                _entries = _buffers.Grow(_entries, _start, live, Math.Max(_entries.Length * 2, live + count));
            }
            else
            {
                Array.Copy(_entries, _start, _entries, 0, live);
            }

            _start = 0;
            _end = live;
        }

        // Read back as stored + _shift: logged time + (delays woven before) − (those on the clock).
        Array.Copy(closed.Entries, 0, _entries, _end, count);
        _end += count;
        closed.Count = 0;
    }

    /// <summary>Keeps the entries not yet woven, their times moved by every delay found
    /// (<paramref name="delay"/>: weave <paramref name="weave"/>'s), and sets this weave's delays
    /// aside for the clock. O(1).</summary>
    public void Carry(long delay, int weave)
    {
        _start += Head;
        _shift += delay;
        if (_start == _end)
        {
            _start = _end = 0;
        }

        Head = 0;
        OrderedHead = 0;
        int slot = weave & (QuantumWeaver.Slots - 1);
        _wovenDelayNs[slot] += delay;
        _wovenCpaLockWaitNs[slot] += CpaLockWaitNs;
        CpaLockWaitNs = 0;
    }

    /// <summary>A closed log waiting for its weave.</summary>
    private sealed class ClosedLog
    {
        public QuantumEntry[] Entries = new QuantumEntry[16];
        public int Count;
    }
}

/// <summary>Where a weaver's logs and weave inputs grow: a buffer replaced by a larger one is
/// kept for the next that grows to its size (the CPUs' buffers grow through the same sizes at
/// about the same time), not left to the collector, which keeps large arrays long, so that every
/// growth took fresh memory. At 256 vCPUs and a 4 GiB guest that was 246 MiB allocated, and page
/// faults on it were ~10% of a run; kept buffers made it 185 MiB (docs/engine.md, "Speed",
/// fourteenth session). Thread-safe: logs grow on the lanes' threads, inputs on the weaver's.</summary>
internal sealed class EntryBuffers(int cpus)
{
    /// <summary>Larger buffers are not kept (a lane's input holds ~6,000 entries at 256 vCPUs).</summary>
    private const int MaxKept = 1 << 20;

    /// <summary>The pool's smallest size, that of a new log's buffer.</summary>
    private const int MinKept = 16;

    private readonly ArrayPool<QuantumEntry> _pool = ArrayPool<QuantumEntry>.Create(MaxKept, Math.Max(4, cpus));

    /// <summary>A buffer of at least <paramref name="length"/> entries that starts with
    /// <paramref name="buffer"/>'s <paramref name="live"/> entries from <paramref name="start"/>
    /// (the rest undefined: an entry is written before it is read); <paramref name="buffer"/>,
    /// which its owner drops, is kept.</summary>
    public QuantumEntry[] Grow(QuantumEntry[] buffer, int start, int live, int length)
    {
        QuantumEntry[] grown = _pool.Rent(length);
        Array.Copy(buffer, start, grown, 0, live);
        if (buffer.Length >= MinKept && BitOperations.IsPow2(buffer.Length))
        {
            // The pool's sizes (it refuses any other; larger ones it drops).
            _pool.Return(buffer);
        }

        return grown;
    }
}
