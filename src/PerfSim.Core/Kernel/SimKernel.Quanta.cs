using System.Diagnostics;
using System.Runtime.InteropServices;
using PerfSim.Core.Allocator;
using PerfSim.Core.Events;
using PerfSim.Core.Frames;
using PerfSim.Core.PageCache;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Kernel;

/// <summary>Receives a path's latency once the weave knows every wait inside it.</summary>
public interface ILatencySink
{
    void Record(int cpu, int histogram, long latencyNs);
}

/// <summary>
/// Quantum mode: the bound–weave split that lets host threads run simulated CPUs at once while the
/// results stay a function of the seed alone (docs/engine.md).
/// </summary>
/// <remarks>
/// <para><b>Bound.</b> While quantum mode is on, a path runs its CPU's own work at once (workload,
/// per-CPU list, zeroing through its own TLB, its folio's frames and PTE, its costs) and, instead of
/// touching what orders CPUs against each other, appends an entry to its CPU's log: simulated lock
/// acquisitions (<c>cpa_lock</c>, <c>pgtable_split_lock</c>, a mapping's <c>i_pages</c> lock), path
/// entries, latencies and events; a ranged flush's invalidations of the other CPUs' TLBs and its
/// IPI broadcast go to per-quantum tallies of their own. The clock advances by hold times only.</para>
/// <para><b>Close.</b> <see cref="CloseQuantum"/>, between quanta: the invalidations reach the other
/// TLBs, each CPU that ran paths pays the IPI handler time the broadcasts took from it, the clocks
/// move by the lock waits woven so far, the logs become the weave's input, and each CPU that
/// refilled its per-CPU list gets its next batch requested (<see cref="Allocator.PageAllocator.RequestStagedBatch"/>),
/// to be drawn beside the next round.</para>
/// <para><b>Weave.</b> <see cref="WeaveClosed"/>, beside the next quantum's first round, applies
/// lock acquisitions and events of all CPUs in simulated-time order (time + the delays found so far,
/// then CPU), and every other entry in its CPU's order: lock waits move the CPU's later entries,
/// latencies are recorded with the waits inside them, events reach the sink in time order with
/// corrected stamps. Entries beyond the quantum are carried to the next weave, so lock order is
/// exact across quanta.</para>
/// <para>Everything the bound phase of one CPU reads is its own or written commutatively by others
/// (readers' release time; the TLB's shared region masks are not written then, see
/// <see cref="Tlb.TlbModel.DeferRegionMasks"/>), so the engine may run CPUs on any host thread;
/// steps that need shared functional state (a refill with no staged batch, a direct-map split, a full flush) run
/// one at a time in canonical order (<see cref="FaultIsCpuLocal"/>, <see cref="ParallelRound"/>).</para>
/// </remarks>
public sealed partial class SimKernel
{
    internal const int CpaLockId = 0;
    internal const int SplitLockId = 1;
    internal const int PagesLockId = 2;

    private QuantumLane[]? _lanes;
    private QuantumLane[]? _idleLanes;
    private QuantumLog[]? _logs;
    private QuantumLog[]? _idleLogs;
    private ILatencySink? _latencySink;
    private ISimEventSink? _deliverTo;
    private ISimEventSink? _deferredEvents;
    private long[] _heap = [];
    private long[] _refillsAtClose = [];
    private long? _closedUntil;
    private readonly Lock _registryLock = new();

    /// <summary>The simulated locks by id: <c>cpa_lock</c>, <c>pgtable_split_lock</c>, then each
    /// mapping's <c>i_pages</c> lock. A logged acquisition names its lock by id (no reference, so no
    /// GC write barrier per entry), and the weave, which writes them beside the next round, touches
    /// no line a round reads (they were fields of the kernel and of the file).</summary>
    private SimLock[] _locks = new SimLock[PagesLockId + 16];

    /// <summary>True while quantum mode is on (between <see cref="BeginQuanta"/> and <see cref="EndQuanta"/>).</summary>
    public bool InQuanta => _lanes is not null;

    /// <summary>Set by the engine while host threads run CPUs concurrently: operations on shared
    /// functional state then throw, because their order would depend on host scheduling.</summary>
    public bool ParallelRound { get; set; }

    /// <summary>Turns quantum mode on; <paramref name="latencies"/> receives woven latencies.</summary>
    public void BeginQuanta(ILatencySink latencies)
    {
        ArgumentNullException.ThrowIfNull(latencies);
        _latencySink = latencies;
        // Logs are kept for the kernel's life: phases reuse them (and their grown arrays).
        if (_idleLanes is null)
        {
            _idleLanes = new QuantumLane[CpuCount];
            _idleLogs = new QuantumLog[CpuCount];
            // Logs first, then lanes: a CPU's log (written by its round) must not sit next to a lane
            // (written by the weave on another thread); auto layout may put a log's counts after its padding.
            for (int c = 0; c < CpuCount; c++)
            {
                _idleLogs[c] = new QuantumLog();
            }

            for (int c = 0; c < CpuCount; c++)
            {
                _idleLanes[c] = new QuantumLane();
            }

            _heap = new long[CpuCount];
            _refillsAtClose = new long[CpuCount];
        }

        for (int c = 0; c < CpuCount; c++)
        {
            _refillsAtClose[c] = Allocator.PcpRefillsOf(c);
        }

        _lanes = _idleLanes;
        _logs = _idleLogs;
        Flush.DeferRemote = true;
        Flush.Tlb.DeferRegionMasks = true;
        EventSink = _deliverTo;
    }

    /// <summary>Weaves what is left and turns quantum mode off.</summary>
    public void EndQuanta()
    {
        if (_lanes is null)
        {
            return;
        }

        // The quantum closed last (if the engine did not weave it) and then everything still logged.
        WeaveClosed();
        CloseQuantum(long.MaxValue);
        WeaveClosed();
        Allocator.FinishStaging();
        for (int c = 0; c < _lanes.Length; c++)
        {
            Settle(c, _lanes[c]);
        }

        _lanes = null;
        _logs = null;
        _latencySink = null;
        Flush.DeferRemote = false;
        Flush.Tlb.DeferRegionMasks = false;
        EventSink = _deliverTo;
    }

    /// <summary>
    /// Ends quantum <c>k</c> (ending at <paramref name="endNs"/>) once its rounds and serial steps are
    /// done, before quantum <c>k + 1</c>'s first round. Single-threaded. Each CPU's clock moves by the
    /// delays the weave of quantum <c>k − 1</c> found; the other CPUs' TLB invalidations of the
    /// quantum's ranged flushes are applied (they commute, so in CPU order); and the quantum's logs
    /// become the input of <see cref="WeaveClosed"/>, which may then run beside the next round.
    /// </summary>
    /// <remarks>The clocks of quantum <c>k + 1</c> so lag by quantum <c>k</c>'s delays; the weave adds
    /// them to the entries it reads (<see cref="QuantumLane.Base"/>), so lock order stays exact in
    /// delayed time; only which steps fall in which quantum moves, deterministically.</remarks>
    public void CloseQuantum(long endNs)
    {
        QuantumLane[] lanes = _lanes ?? throw new InvalidOperationException("quantum mode is off");
        QuantumLog[] logs = _logs!;
        if (_closedUntil is not null)
        {
            throw new InvalidOperationException("the previous quantum is not woven yet");
        }

        Allocator.FinishStaging();
        for (int c = 0; c < logs.Length; c++)
        {
            Flush.AddBroadcast(c, logs[c].BroadcastNs);
            logs[c].BroadcastNs = 0;
        }

        for (int c = 0; c < lanes.Length; c++)
        {
            QuantumLog log = logs[c];
            Settle(c, lanes[c]);
            if (log.Count > 0)
            {
                // IPI handler time, in aggregate: what the quantum's broadcasts (and any not yet
                // charged) took from this CPU (architecture.md §4), charged when the quantum closes
                // to a CPU that ran paths in it.
                _cpus[c].ClockNs += Flush.TakeInterruptDebt(c);
            }

            for (int i = 0; i < log.InvalidationCount; i++)
            {
                ref RemoteInvalidation r = ref log.Invalidations[i];
                Flush.InvalidateDeferred(c, r.Pfn, r.Pages, zapped: r.Zap != 0, initiatorHeld: r.Zap == 2);
            }

            log.InvalidationCount = 0;
            lanes[c].TakeLog(log);

            // A CPU that refilled its per-CPU list in this quantum gets its next batch drawn beside
            // the next round: that refill then stays on the CPU's own state and may run in a round.
            long refills = Allocator.PcpRefillsOf(c);
            if (refills != _refillsAtClose[c])
            {
                _refillsAtClose[c] = refills;
                Allocator.RequestStagedBatch(c);
            }
        }

        _closedUntil = endNs;
    }

    /// <summary>What the last weave found for CPU <paramref name="cpu"/> reaches its clock and counters.</summary>
    private void Settle(int cpu, QuantumLane lane)
    {
        _cpus[cpu].ClockNs += lane.SettleDelays(out long cpaLockWaitNs);
        _cpus[cpu].Counters.CpaLockWaitNs += cpaLockWaitNs;
    }

    /// <summary>Weaves the quantum <see cref="CloseQuantum"/> closed, if any, and draws the per-CPU
    /// list batches it staged. It reads and writes only the closed logs and its own side of each lane,
    /// the simulated locks, the latency sink, the event sink and the zone's free lists, none of which
    /// a round touches (a CPU whose batch is pending does not read it), so it may run on one host
    /// thread while the others run the next quantum's first round.</summary>
    public void WeaveClosed()
    {
        if (_closedUntil is { } until)
        {
            _closedUntil = null;
            Weave(until);
        }

        Allocator.DrawStagedBatches();
    }

    /// <summary>
    /// Applies every closed entry whose time (plus the delays found before it) is below
    /// <paramref name="untilNs"/>: lock acquisitions and events in simulated-time order across CPUs,
    /// the rest in its CPU's order; carries the rest. The delays reach the clocks at the next
    /// <see cref="CloseQuantum"/>.
    /// </summary>
    /// <remarks>Only a lock acquisition (its wait depends on who came first) and an event (the trace
    /// is in time order) must be ordered across CPUs. A path entry and a latency touch nothing
    /// another CPU's entry reads, so each is applied as soon as its CPU's earlier entries are: the
    /// heap holds one ordered entry per CPU, not every entry.</remarks>
    private void Weave(long untilNs)
    {
        QuantumLane[] lanes = _lanes ?? throw new InvalidOperationException("quantum mode is off");
        // A binary heap of the CPUs' next ordered entries keyed by (time, cpu): times < 2^53 ns, cpus < 1024.
        int n = 0;
        for (int c = 0; c < lanes.Length; c++)
        {
            QuantumLane lane = lanes[c];
            if (lane.HasNext && ApplyUnordered(c, lane, untilNs))
            {
                HeapPush(ref n, KeyOf(lane, c));
            }
        }

        while (n > 0)
        {
            long top = _heap[0];
            long time = top >> 10;
            if (time >= untilNs)
            {
                break;
            }

            int cpu = (int)(top & 1023);
            QuantumLane lane = lanes[cpu];
            Apply(cpu, lane, in lane.Next, time);
            lane.Head++;
            if (ApplyUnordered(cpu, lane, untilNs))
            {
                HeapReplaceTop(n, KeyOf(lane, cpu));
            }
            else if (--n > 0)
            {
                HeapReplaceTop(n, _heap[n]);
            }
        }

        foreach (QuantumLane lane in lanes)
        {
            lane.Carry();
        }
    }

    /// <summary>Applies the CPU's unordered entries up to its next ordered one; true when that
    /// ordered entry exists and is due before <paramref name="untilNs"/> (it joins the heap).</summary>
    private bool ApplyUnordered(int cpu, QuantumLane lane, long untilNs)
    {
        while (lane.HasNext)
        {
            ref QuantumEntry e = ref lane.Next;
            long time = lane.NextTime;
            if (time >= untilNs)
            {
                return false;
            }

            if (e.Kind is QuantumKind.Lock or QuantumKind.Event)
            {
                return true;
            }

            Apply(cpu, lane, in e, time);
            lane.Head++;
        }

        return false;
    }

    /// <summary>Whether a first-touch fault (guest_memfd or secretmem) of <paramref name="index"/> by
    /// <paramref name="cpu"/> stays on state of its own: the folio is cached or comes from the CPU's
    /// per-CPU list without a refill, and any zap hits a PTE of an already split region (no
    /// page-table allocation, no <c>flush_tlb_all</c>), one page so the flush is ranged. Such a
    /// fault may run in a parallel round; any other runs alone.</summary>
    public bool FaultIsCpuLocal(int cpu, KernelFile file, long index)
    {
        ArgumentNullException.ThrowIfNull(file);
        if ((ulong)index >= (ulong)file.SizePages)
        {
            return true;
        }

        // The same fields of the file's design the paths read: a cached folio zaps only at its first
        // mapping; a new one zaps at first map or at insertion; allocation flags other than none
        // draw from lists whose refill flips a pageblock (shared state).
        Design design = file.Design;
        long folioIndex = index & ~((1L << file.FolioOrder) - 1);
        long pfn;
        bool zaps;
        if (PageCache.TryLookup(file.Mapping, folioIndex, out Folio found))
        {
            pfn = found.Pfn;
            zaps = design.Zap == ZapPoint.FirstMap && (Frames[pfn].Flags & FrameFlags.NoDirectMap) == 0;
        }
        else
        {
            if (file.FolioOrder != 0 || design.Alloc != AllocFlags.None || !Allocator.TryPeekPcp(cpu, design.Alloc, out pfn))
            {
                return false;
            }

            zaps = design.ZapsPerFolio;
        }

        return !zaps || DirectMap.Lookup(pfn).Level == PageLevel.Level4K;
    }

    /// <summary>Records a path's latency: at once outside quantum mode, else when woven (with the
    /// lock waits inside the path added).</summary>
    public void RecordLatency(int cpu, int histogram, long latencyNs, ILatencySink direct)
    {
        ArgumentNullException.ThrowIfNull(direct);
        if (_logs is { } logs)
        {
            logs[cpu].Add(new QuantumEntry(QuantumKind.Latency, _cpus[cpu].ClockNs, latencyNs, 0, histogram));
        }
        else
        {
            direct.Record(cpu, histogram, latencyNs);
        }
    }

    /// <summary>Logs an entry for the weave; false outside quantum mode (the caller acts at once).</summary>
    private bool Defer(int cpu, QuantumKind kind, long a, long b, int id = 0)
    {
        if (_logs is not { } logs)
        {
            return false;
        }

        logs[cpu].Add(new QuantumEntry(kind, _cpus[cpu].ClockNs, a, b, id));
        return true;
    }

    /// <summary>Adds an IPI broadcast of <paramref name="handlerNs"/> per target to the CPU's
    /// quantum (charged to the others when it closes); nothing outside quantum mode.</summary>
    private void DeferBroadcast(int cpu, long handlerNs)
    {
        if (_logs is { } logs)
        {
            logs[cpu].BroadcastNs += handlerNs;
        }
    }

    /// <summary>Where the CPU's log ends now (0 outside quantum mode).</summary>
    private int LogMark(int cpu) => _logs is { } logs ? logs[cpu].Count : 0;

    /// <summary>Logs a lock acquisition at <paramref name="timeNs"/>, at position
    /// <paramref name="mark"/>: before what the holder logged inside the lock. False outside quantum mode.</summary>
    private bool DeferAt(int cpu, int mark, long timeNs, long holdNs, int lockId)
    {
        if (_logs is not { } logs)
        {
            return false;
        }

        logs[cpu].Insert(mark, new QuantumEntry(QuantumKind.Lock, timeNs, holdNs, Costs.LockHandoffNs, lockId));
        return true;
    }

    /// <summary>A new file's <c>i_pages</c> lock, free (its mapping id may have served a closed file).</summary>
    private void RegisterFile(KernelFile file)
    {
        using (Gate())
        {
            lock (_registryLock)
            {
                int id = PagesLockId + file.Mapping;
                if (id >= _locks.Length)
                {
                    Array.Resize(ref _locks, Math.Max(id + 1, _locks.Length * 2));
                }

                _locks[id] = default;
            }
        }
    }

    /// <summary>Throws when a step on shared functional state runs inside a parallel round: the
    /// engine's locality test let through a step it must run alone.</summary>
    private void RequireSerial(string what)
    {
        if (ParallelRound)
        {
            throw new InvalidOperationException($"{what} inside a parallel round: the step must run alone");
        }
    }

    private void Apply(int cpu, QuantumLane lane, in QuantumEntry e, long time)
    {
        switch (e.Kind)
        {
            case QuantumKind.Enter:
                lane.StepDelay = 0;
                break;

            case QuantumKind.Lock:
            {
                ref SimLock l = ref _locks[e.Id];
                long at = time;
                long wait = l.Hold(ref at, e.A, e.B);
                lane.Delay += wait;
                lane.StepDelay += wait;
                if (e.Id == CpaLockId)
                {
                    // Kept on the weave's side: the CPU's counters share lines with what its round writes.
                    lane.CpaLockWaitNs += wait;
                }

                break;
            }

            case QuantumKind.Latency:
                _latencySink!.Record(cpu, e.Id, e.A + lane.StepDelay);
                break;
            default:
                _deliverTo?.Emit(new SimEvent(time, e.A, e.B, cpu, (SimEventKind)e.Id));
                break;
        }
    }

    private static long KeyOf(QuantumLane lane, int cpu) => (lane.NextTime << 10) | (long)cpu;

    private void HeapPush(ref int n, long key)
    {
        int i = n++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (_heap[parent] <= key)
            {
                break;
            }

            _heap[i] = _heap[parent];
            i = parent;
        }

        _heap[i] = key;
    }

    private void HeapReplaceTop(int n, long key)
    {
        int i = 0;
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && _heap[child + 1] < _heap[child])
            {
                child++;
            }

            if (_heap[child] >= key)
            {
                break;
            }

            _heap[i] = _heap[child];
            i = child;
        }

        _heap[i] = key;
    }

    /// <summary>Events in quantum mode go to their CPU's log and reach the real sink when woven.</summary>
    private sealed class DeferredEvents(SimKernel kernel) : ISimEventSink
    {
        public void Emit(in SimEvent e) =>
            kernel.Defer(e.Cpu, QuantumKind.Event, e.Pfn, e.Extra, (int)e.Kind);
    }
}

internal enum QuantumKind : byte
{
    Enter,
    Lock,
    Latency,
    Event,
}

/// <summary>One logged entry: <see cref="TimeNs"/> is the CPU's clock when it was logged (before
/// the delays not yet on it); A/B/Id by kind (lock: hold, handoff, lock id (i_pages: 2 + mapping);
/// latency: ns, histogram; event: pfn, extra, kind). 32 bytes (auto layout puts the kind last): the
/// logs cross from the core that wrote them to the one that weaves them, five entries per fault.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct QuantumEntry(QuantumKind Kind, long TimeNs, long A, long B, int Id);

/// <summary>A ranged flush's invalidation of the other CPUs' TLBs: <see cref="Zap"/> 0 (not
/// closing a zap), 1 (zap), 2 (zap of a page the initiator held).</summary>
internal readonly record struct RemoteInvalidation(long Pfn, long Pages, int Zap);

/// <summary>What one CPU's steps log in the current quantum (on its own cache lines: neighbouring
/// CPUs' logs are written by different host threads).</summary>
internal sealed class QuantumLog
{
    public QuantumEntry[] Entries = new QuantumEntry[16];
    public int Count;

    /// <summary>IPI handler time per target of the quantum's broadcasts.</summary>
    public long BroadcastNs;

    /// <summary>The quantum's remote invalidations, applied when it closes.</summary>
    public RemoteInvalidation[] Invalidations = new RemoteInvalidation[4];
    public int InvalidationCount;

#pragma warning disable CS0169, IDE0051 // padding
    private readonly long _pad0, _pad1, _pad2, _pad3, _pad4, _pad5, _pad6, _pad7;
#pragma warning restore CS0169, IDE0051

    public void Add(in QuantumEntry e)
    {
        Debug.Assert(Count == 0 || e.TimeNs >= Entries[Count - 1].TimeNs, "a CPU's log must stay in time order");
        EnsureRoom();
        Entries[Count++] = e;
    }

    /// <summary>Inserts at <paramref name="index"/> (entries logged after it move up one).</summary>
    public void Insert(int index, in QuantumEntry e)
    {
        EnsureRoom();
        Array.Copy(Entries, index, Entries, index + 1, Count - index);
        Entries[index] = e;
        Count++;
    }

    public void AddInvalidation(in RemoteInvalidation r)
    {
        if (InvalidationCount == Invalidations.Length)
        {
            Array.Resize(ref Invalidations, InvalidationCount * 2);
        }

        Invalidations[InvalidationCount++] = r;
    }

    private void EnsureRoom()
    {
        if (Count == Entries.Length)
        {
            Array.Resize(ref Entries, Count * 2);
        }
    }
}

/// <summary>One CPU's side of the weave: the closed log it reads and the delays it found. Only the
/// weave and <see cref="SimKernel.CloseQuantum"/> touch it.</summary>
internal sealed class QuantumLane
{
    /// <summary>The weave's input: entries carried from earlier weaves (times already moved by
    /// every delay), then the closed quantum's log (times before <see cref="Base"/>).</summary>
    private QuantumEntry[] _carried = new QuantumEntry[4];
    private int _carriedCount;
    private QuantumEntry[] _closed = new QuantumEntry[16];
    private int _closedCount;

    /// <summary>The next input entry the weave applies.</summary>
    public int Head;

    /// <summary>Delays of the weave before, not on the clock when the closed log was written.</summary>
    public long Base;

    /// <summary>Delay added to this CPU by the current weave (lock waits).</summary>
    public long Delay;

    /// <summary>Lock waits since the CPU's last path entry: part of that path's latency.</summary>
    public long StepDelay;

    /// <summary>Waits for <c>cpa_lock</c> woven but not yet in the CPU's counters.</summary>
    public long CpaLockWaitNs;

    /// <summary>Delays woven but not yet on the CPU's clock.</summary>
    private long _pending;

    public bool HasNext => Head < _carriedCount + _closedCount;

    public ref QuantumEntry Next => ref Head < _carriedCount ? ref _carried[Head] : ref _closed[Head - _carriedCount];

    /// <summary>The next entry's time with every delay found so far.</summary>
    public long NextTime => Head < _carriedCount
        ? _carried[Head].TimeNs + Delay
        : _closed[Head - _carriedCount].TimeNs + Base + Delay;

    /// <summary>The delays woven since the last call, for the clock (they become the base of the
    /// next closed log, written before the clock had them), and the <c>cpa_lock</c> waits among
    /// them, for the CPU's counters.</summary>
    public long SettleDelays(out long cpaLockWaitNs)
    {
        long pending = _pending;
        Base = pending;
        _pending = 0;
        cpaLockWaitNs = CpaLockWaitNs;
        CpaLockWaitNs = 0;
        return pending;
    }

    /// <summary>The quantum's log becomes the weave's input (after what earlier weaves carried);
    /// the log starts afresh in the buffer the weave is done with.</summary>
    public void TakeLog(QuantumLog log)
    {
        Debug.Assert(_closedCount == 0 && Head == 0, "the previous weave did not carry its input");
        (log.Entries, _closed) = (_closed, log.Entries);
        _closedCount = log.Count;
        log.Count = 0;
    }

    /// <summary>Keeps the entries not yet woven, their times moved by every delay found, and sets
    /// this weave's delays aside for the clock.</summary>
    public void Carry()
    {
        int carried = 0;
        for (int i = Head; i < _carriedCount; i++)
        {
            QuantumEntry e = _carried[i];
            _carried[carried++] = e with { TimeNs = e.TimeNs + Delay };
        }

        int from = Math.Max(0, Head - _carriedCount);
        int total = carried + _closedCount - from;
        if (total > _carried.Length)
        {
            Array.Resize(ref _carried, Math.Max(total, _carried.Length * 2));
        }

        for (int i = from; i < _closedCount; i++)
        {
            QuantumEntry e = _closed[i];
            _carried[carried++] = e with { TimeNs = e.TimeNs + Base + Delay };
        }

        _carriedCount = carried;
        _closedCount = 0;
        Head = 0;
        _pending += Delay;
        Delay = 0;
    }
}
