using System.Diagnostics;
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
/// entries, a flush's invalidations of the other CPUs' TLBs and its broadcast, latencies, and
/// events. The clock advances by hold times only.</para>
/// <para><b>Weave.</b> <see cref="Weave"/> applies lock acquisitions and events of all CPUs in
/// simulated-time order (time + the delays found so far, then CPU), and every other entry in its
/// CPU's order: lock waits move the CPU's later entries, latencies are recorded with the waits
/// inside them, events reach the sink in time order with corrected stamps, and each CPU pays the
/// IPI handler time of the broadcasts woven in the quantum at its end. Entries beyond the quantum
/// are carried to the next weave, so lock order is exact across quanta.</para>
/// <para>Everything the bound phase of one CPU reads is its own or written commutatively by others
/// (readers' release time; the TLB's shared region masks are not written then, see
/// <see cref="Tlb.TlbModel.DeferRegionMasks"/>), so the engine may run CPUs on any host thread;
/// steps that need shared functional state (a zone refill, a direct-map split, a full flush) run
/// one at a time in canonical order (<see cref="FaultIsCpuLocal"/>, <see cref="ParallelRound"/>).</para>
/// </remarks>
public sealed partial class SimKernel
{
    internal const int CpaLockId = 0;
    internal const int SplitLockId = 1;
    internal const int PagesLockId = 2;

    private QuantumLane[]? _lanes;
    private QuantumLane[]? _idleLanes;
    private ILatencySink? _latencySink;
    private ISimEventSink? _deliverTo;
    private ISimEventSink? _deferredEvents;
    private long[] _heap = [];
    private readonly Lock _registryLock = new();

    /// <summary>Open files by mapping id: a logged <c>i_pages</c> acquisition names its lock by id,
    /// so log entries carry no references (no GC write barrier per entry).</summary>
    private KernelFile?[] _filesByMapping = new KernelFile?[16];

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
            for (int c = 0; c < CpuCount; c++)
            {
                _idleLanes[c] = new QuantumLane();
            }

            _heap = new long[CpuCount];
        }

        _lanes = _idleLanes;
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

        Weave(long.MaxValue);
        _lanes = null;
        _latencySink = null;
        Flush.DeferRemote = false;
        Flush.Tlb.DeferRegionMasks = false;
        EventSink = _deliverTo;
    }

    /// <summary>
    /// Applies every logged entry whose time (plus the delays found before it) is below
    /// <paramref name="untilNs"/>: lock acquisitions and events in simulated-time order across CPUs,
    /// the rest in its CPU's order; then charges each active CPU the IPI handler time the woven
    /// broadcasts owe it, moves each CPU's clock by its delays and carries the rest.
    /// Single-threaded: no CPU may run meanwhile.
    /// </summary>
    /// <remarks>Only a lock acquisition (its wait depends on who came first) and an event (the trace
    /// is in time order) must be ordered across CPUs. A path entry, a remote invalidation and a
    /// latency touch nothing another CPU's entry reads in the same weave (invalidations remove TLB
    /// entries and commute; the broadcasts are charged at the end), so each is applied as soon as
    /// its CPU's earlier entries are: the heap holds one ordered entry per CPU, not every entry.</remarks>
    public void Weave(long untilNs)
    {
        QuantumLane[] lanes = _lanes ?? throw new InvalidOperationException("quantum mode is off");
        // A binary heap of the CPUs' next ordered entries keyed by (time, cpu): times < 2^53 ns, cpus < 1024.
        int n = 0;
        for (int c = 0; c < lanes.Length; c++)
        {
            QuantumLane lane = lanes[c];
            if (lane.Head < lane.Count && ApplyUnordered(c, lane, untilNs))
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
            Apply(cpu, lane, in lane.Entries[lane.Head++], time);
            if (ApplyUnordered(cpu, lane, untilNs))
            {
                HeapReplaceTop(n, KeyOf(lane, cpu));
            }
            else if (--n > 0)
            {
                HeapReplaceTop(n, _heap[n]);
            }
        }

        for (int c = 0; c < lanes.Length; c++)
        {
            QuantumLane lane = lanes[c];
            if (lane.Count > 0)
            {
                // IPI handler time, in aggregate: what the broadcasts woven so far took from this
                // CPU (architecture.md §4), charged once per quantum to a CPU that ran paths in it.
                lane.Delay += Flush.TakeInterruptDebt(c);
            }

            lane.Carry(ref _cpus[c].ClockNs);
        }
    }

    /// <summary>Applies the CPU's unordered entries up to its next ordered one; true when that
    /// ordered entry exists and is due before <paramref name="untilNs"/> (it joins the heap).</summary>
    private bool ApplyUnordered(int cpu, QuantumLane lane, long untilNs)
    {
        while (lane.Head < lane.Count)
        {
            ref QuantumEntry e = ref lane.Entries[lane.Head];
            long time = e.TimeNs + lane.Delay;
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

        long folioIndex = index & ~((1L << file.FolioOrder) - 1);
        bool secretmem = file.Kind == FileKind.Secretmem;
        bool zapsOnFirstUse = file.NoDirectMap && Options.Strategy is Strategy.PerFolio or Strategy.PerFolioV12;
        long pfn;
        bool zaps;
        if (PageCache.TryLookup(file.Mapping, folioIndex, out Folio found))
        {
            pfn = found.Pfn;
            zaps = !secretmem && zapsOnFirstUse && (Frames[pfn].Flags & FrameFlags.NoDirectMap) == 0;
        }
        else
        {
            bool unmappedAlloc = Options.Strategy == Strategy.UnmappedAlloc && file.NoDirectMap && !secretmem;
            if (file.FolioOrder != 0 || unmappedAlloc || !Allocator.TryPeekPcp(cpu, AllocFlags.None, out pfn))
            {
                return false;
            }

            zaps = secretmem || zapsOnFirstUse || (file.NoDirectMap && Options.Strategy == Strategy.Filemap);
        }

        return !zaps || DirectMap.Lookup(pfn).Level == PageLevel.Level4K;
    }

    /// <summary>Records a path's latency: at once outside quantum mode, else when woven (with the
    /// lock waits inside the path added).</summary>
    public void RecordLatency(int cpu, int histogram, long latencyNs, ILatencySink direct)
    {
        ArgumentNullException.ThrowIfNull(direct);
        if (_lanes is { } lanes)
        {
            lanes[cpu].Add(new QuantumEntry(QuantumKind.Latency, _cpus[cpu].ClockNs, latencyNs, 0, 0, histogram));
        }
        else
        {
            direct.Record(cpu, histogram, latencyNs);
        }
    }

    /// <summary>Logs an entry for the weave; false outside quantum mode (the caller acts at once).</summary>
    private bool Defer(int cpu, QuantumKind kind, long a, long b, long c, int id = 0)
    {
        if (_lanes is not { } lanes)
        {
            return false;
        }

        lanes[cpu].Add(new QuantumEntry(kind, _cpus[cpu].ClockNs, a, b, c, id));
        return true;
    }

    /// <summary>Where the CPU's log ends now (0 outside quantum mode).</summary>
    private int LogMark(int cpu) => _lanes is { } lanes ? lanes[cpu].Count : 0;

    /// <summary>Logs a lock acquisition at <paramref name="timeNs"/>, at position
    /// <paramref name="mark"/>: before what the holder logged inside the lock. False outside quantum mode.</summary>
    private bool DeferAt(int cpu, int mark, long timeNs, long holdNs, int lockId)
    {
        if (_lanes is not { } lanes)
        {
            return false;
        }

        lanes[cpu].Insert(mark, new QuantumEntry(QuantumKind.Lock, timeNs, holdNs, Costs.LockHandoffNs, 0, lockId));
        return true;
    }

    /// <summary>Makes <paramref name="file"/> findable by its mapping id (its <c>i_pages</c> lock in a log).</summary>
    private void RegisterFile(KernelFile file)
    {
        lock (_registryLock)
        {
            if (file.Mapping >= _filesByMapping.Length)
            {
                Array.Resize(ref _filesByMapping, Math.Max(file.Mapping + 1, _filesByMapping.Length * 2));
            }

            _filesByMapping[file.Mapping] = file;
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
                ref SimLock l = ref e.Id == CpaLockId ? ref _cpaLock : ref e.Id == SplitLockId ? ref _splitLock : ref _filesByMapping[e.Id - PagesLockId]!.PagesLock;
                long at = time;
                long wait = l.Hold(ref at, e.A, e.B);
                lane.Delay += wait;
                lane.StepDelay += wait;
                if (e.Id == CpaLockId)
                {
                    _cpus[cpu].Counters.CpaLockWaitNs += wait;
                }

                break;
            }

            case QuantumKind.Flush:
                if (e.B > 0)
                {
                    Flush.InvalidateDeferred(cpu, e.A, e.B, zapped: e.Id != 0, initiatorHeld: e.Id == 2);
                }

                if (e.C > 0)
                {
                    Flush.AddBroadcast(cpu, e.C);
                }

                break;
            case QuantumKind.Latency:
                _latencySink!.Record(cpu, e.Id, e.A + lane.StepDelay);
                break;
            default:
                _deliverTo?.Emit(new SimEvent(time, e.A, e.B, cpu, (SimEventKind)e.Id));
                break;
        }
    }

    private static long KeyOf(QuantumLane lane, int cpu) =>
        ((lane.Entries[lane.Head].TimeNs + lane.Delay) << 10) | (long)cpu;

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
            kernel.Defer(e.Cpu, QuantumKind.Event, e.Pfn, e.Extra, 0, (int)e.Kind);
    }
}

internal enum QuantumKind : byte
{
    Enter,
    Lock,
    Flush,
    Latency,
    Event,
}

/// <summary>One logged entry: <see cref="TimeNs"/> is the CPU's clock when it was logged (before
/// this quantum's delays); A/B/C/Id by kind (lock: hold, handoff, lock id (i_pages: 2 + mapping);
/// flush: pfn, pages, handler ns, 0 / 1 zap / 2 zap the initiator held; latency: ns, histogram;
/// event: pfn, extra, kind).</summary>
internal readonly record struct QuantumEntry(QuantumKind Kind, long TimeNs, long A, long B, long C, int Id);

/// <summary>One CPU's log and the delays the weave found for it.</summary>
internal sealed class QuantumLane
{
    public QuantumEntry[] Entries = new QuantumEntry[16];
    public int Count;
    public int Head;

    /// <summary>Delay added to this CPU by the current weave (lock waits and IPI handler time).</summary>
    public long Delay;

    /// <summary>Lock waits since the CPU's last path entry: part of that path's latency.</summary>
    public long StepDelay;

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

    private void EnsureRoom()
    {
        if (Count == Entries.Length)
        {
            Array.Resize(ref Entries, Count * 2);
        }
    }

    /// <summary>Moves the CPU's clock by the delays woven and keeps the entries not yet woven,
    /// restamped on the moved clock.</summary>
    public void Carry(ref long clock)
    {
        clock += Delay;
        int left = Count - Head;
        for (int i = 0; i < left; i++)
        {
            QuantumEntry e = Entries[Head + i];
            Entries[i] = e with { TimeNs = e.TimeNs + Delay };
        }

        Count = left;
        Head = 0;
        Delay = 0;
    }
}
