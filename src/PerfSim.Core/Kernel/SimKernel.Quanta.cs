using PerfSim.Core.Allocator;
using PerfSim.Core.Events;
using PerfSim.Core.Frames;
using PerfSim.Core.PageCache;
using PerfSim.Core.PageTables;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Kernel;

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
/// <para><b>Session.</b> The engine begins quantum mode for a phase with <see cref="BeginQuanta"/>
/// and ends it by disposing the <see cref="QuantumSession"/> it returns; the session marks its
/// parallel rounds and closes and weaves its quanta. While it is open the flush engine defers remote
/// invalidations and the TLB model its region masks (both set by the session only).</para>
/// <para><b>Close.</b> <see cref="CloseQuantum"/>, between quanta: the invalidations reach the other
/// TLBs, each CPU that refilled its per-CPU list gets its next batch requested
/// (<see cref="Allocator.PageAllocator.RequestStagedBatch"/>), to be drawn beside the next round, the
/// logs become the weave's input, and the clocks move by the delays (lock waits, interrupts, flush
/// waits) of the weave <see cref="KernelOptions.WeaveDepth"/> quanta back.</para>
/// <para><b>Weave.</b> <see cref="Weave"/>, beside the next quanta's rounds: the
/// <see cref="QuantumWeaver"/> (Timeline/) applies lock acquisitions and events of all CPUs in
/// simulated-time order and the rest in each CPU's order.</para>
/// <para>Everything the bound phase of one CPU reads is its own or written commutatively by others
/// (readers' release time; the TLB's shared region masks are not written then, see
/// <see cref="Tlb.TlbModel.DeferRegionMasks"/>), so the engine may run CPUs on any host thread;
/// steps that need shared functional state (a refill with no staged batch, a direct-map split, a full flush) run
/// one at a time in canonical order (<see cref="FaultIsCpuLocal"/>, <see cref="QuantumSession.InParallelRound"/>).</para>
/// </remarks>
public sealed partial class SimKernel
{
    private readonly SimLockTable _locks = new();
    private QuantumWeaver? _weaver;
    private QuantumSession? _session;

    /// <summary>The open session's logs, one per CPU (null outside quantum mode): what a path's
    /// bound phase appends to.</summary>
    private QuantumLog[]? _logs;
    private ISimEventSink? _deliverTo;

    /// <summary>The logged timeline, made on the first session and kept with the weave's logs.</summary>
    private LoggedEffects? _logged;
    private long[] _refillsAtClose = [];

    /// <summary>True while a <see cref="QuantumSession"/> is open.</summary>
    public bool InQuanta => _session is not null;

    /// <summary>Turns quantum mode on until the returned session is disposed;
    /// <paramref name="latencies"/> receives woven latencies.</summary>
    public QuantumSession BeginQuanta(ILatencySink latencies)
    {
        ArgumentNullException.ThrowIfNull(latencies);
        if (_session is not null)
        {
            throw new InvalidOperationException("a quantum session is already open");
        }

        // The weave's logs and lanes are kept for the kernel's life: phases reuse them (and their grown arrays).
        _weaver ??= new QuantumWeaver(CpuCount, _locks, Host, Options.WeaveDepth);
        if (_refillsAtClose.Length != CpuCount)
        {
            _refillsAtClose = new long[CpuCount];
        }

        for (int c = 0; c < CpuCount; c++)
        {
            _refillsAtClose[c] = Allocator.PcpRefillsOf(c);
        }

        _weaver.Latencies = latencies;
        _logs = _weaver.Logs;
        _effects = _logged ??= new LoggedEffects(_clocks, _logs);
        Flush.DeferRemote = true;
        Flush.Tlb.DeferRegionMasks = true;
        _session = new QuantumSession(this);
        EventSink = _deliverTo;
        return _session;
    }

    /// <summary>Weaves what is left and turns quantum mode off (<see cref="QuantumSession.Dispose"/>).</summary>
    internal void EndQuanta(QuantumSession session)
    {
        if (_session != session || _weaver is not { } weaver)
        {
            return;
        }

        // Zaps still batched are flushed by the CPUs that made them: a phase leaves none unflushed.
        FlushZapBatches();

        // The quanta closed last (if the engine did not weave them) and then everything still logged.
        while (weaver.HasClosed)
        {
            Weave();
        }

        Allocator.DrawStagedBatches();
        CloseQuantum(long.MaxValue);
        WeaveClosed();
        Allocator.FinishStaging();
        for (int c = 0; c < CpuCount; c++)
        {
            Settle(c, weaver.Weaves);
        }

        _logs = null;
        _effects = _immediate;
        _session = null;
        weaver.Latencies = null;
        Flush.DeferRemote = false;
        Flush.Tlb.DeferRegionMasks = false;
        EventSink = _deliverTo;
        AssertModelInvariants();
    }

    /// <summary>
    /// Ends quantum <c>k</c> (ending at <paramref name="endNs"/>) once its rounds and serial steps are
    /// done, before quantum <c>k + 1</c>'s first round; the weave of quantum <c>k − D</c>
    /// (<see cref="KernelOptions.WeaveDepth"/>) must be done, later ones may still run. Single-threaded.
    /// The other CPUs' TLB invalidations of the quantum's ranged flushes are applied (they commute,
    /// so in CPU order); the quantum's logs become the input of a later <see cref="WeaveClosed"/>,
    /// which may run beside the next rounds; and each CPU's clock moves by the delays the weave of
    /// quantum <c>k − D</c> found.
    /// </summary>
    /// <remarks>The clocks of quantum <c>k + 1</c> so lag by the delays of quanta <c>k − D + 1</c> to
    /// <c>k</c>; the weave adds them to the entries it reads (<see cref="QuantumLane.Absorb"/>), so
    /// lock order stays exact in delayed time; only which steps fall in which quantum moves,
    /// deterministically: what a close settles depends on its number, not on how far the weave got.</remarks>
    internal void CloseQuantum(long endNs)
    {
        QuantumLog[] logs = _logs ?? throw new InvalidOperationException("quantum mode is off");
        QuantumWeaver weaver = _weaver!;
        Allocator.FinishStaging();
        for (int c = 0; c < logs.Length; c++)
        {
            QuantumLog log = logs[c];
            for (int i = 0; i < log.InvalidationCount; i++)
            {
                ref RemoteInvalidation r = ref log.Invalidations[i];
                Flush.InvalidateDeferred(c, r.Pfn, r.Pages, zapped: r.Zap != 0, initiatorHeld: r.Zap == 2);
            }

            // A CPU that refilled its per-CPU list in this quantum gets its next batch drawn beside
            // the next round: that refill then stays on the CPU's own state and may run in a round.
            long refills = Allocator.PcpRefillsOf(c);
            if (refills != _refillsAtClose[c])
            {
                _refillsAtClose[c] = refills;
                Allocator.RequestStagedBatch(c);
            }
        }

        // Restarts every log: its entries to the weave, its invalidations (applied above) dropped.
        weaver.Close(endNs);

        // Quantum k's close brings the weaves of quanta up to k − D to the clocks (of the CPUs
        // the weaves reach: the others have no delays).
        int due = weaver.Closes - weaver.Depth;
        if (due > 0)
        {
            for (int c = 0; c < weaver.Span; c++)
            {
                Settle(c, due);
            }
        }
    }

    /// <summary>What the first <paramref name="weaves"/> weaves found for CPU <paramref name="cpu"/>
    /// reaches its clock and counters.</summary>
    private void Settle(int cpu, int weaves)
    {
        _clocks[cpu] += _weaver!.Settle(cpu, weaves, out long cpaLockWaitNs);
        _cpus[cpu].Counters.CpaLockWaitNs += cpaLockWaitNs;
    }

    /// <summary>Weaves the oldest quantum <see cref="CloseQuantum"/> closed and not woven, if any, and
    /// draws the per-CPU list batches the last close staged (<see cref="Weave"/>, then the draw). The two touch disjoint state: the
    /// weave only the closed logs and the weave's side of each lane, the simulated locks, the call
    /// queues and the latency and event sinks; the draw only the zone's free lists and the staged
    /// batches. A round touches neither (a CPU whose batch is pending does not read it), so both may
    /// run beside the next quantum's first round; a serial step touches the zone, so it waits for the
    /// draw, but not for the weave.</summary>
    internal void WeaveClosed()
    {
        Weave();
        Allocator.DrawStagedBatches();
    }

    /// <summary>Weaves the oldest quantum <see cref="CloseQuantum"/> closed and not woven, if any (see <see cref="WeaveClosed"/>).</summary>
    internal void Weave() => _weaver?.WeaveClosed();

    /// <summary>Starts loading, on the host, what a later <see cref="FaultIsCpuLocal"/> and fault of
    /// <paramref name="index"/> in <paramref name="file"/> read first: the folio's page-cache slot, a
    /// miss whenever the faults jump. Changes no simulated state.</summary>
    public void PrefetchFault(KernelFile file, long index)
    {
        ArgumentNullException.ThrowIfNull(file);
        PageCache.Prefetch(file.Mapping, index & ~((1L << file.FolioOrder) - 1));
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

        return !zaps || (DirectMap.ChangesOnlyItsEntry(pfn) && !NextZapFlushesFully(cpu, file));
    }

    /// <summary>Records a path's latency: at once outside quantum mode, else when woven (with the
    /// lock waits inside the path added).</summary>
    public void RecordLatency(int cpu, int histogram, long latencyNs, ILatencySink direct)
    {
        ArgumentNullException.ThrowIfNull(direct);
        _effects.Latency(cpu, histogram, latencyNs, direct);
    }

    /// <summary>A new file's <c>i_pages</c> lock, free (its mapping id may have served a closed file).</summary>
    private void RegisterFile(KernelFile file) => _locks.ResetPagesLock(file.Mapping);

    /// <summary>Throws when a step on shared functional state runs inside a parallel round: the
    /// engine's locality test let through a step it must run alone.</summary>
    private void RequireSerial(string what)
    {
        if (_session is { InParallelRound: true })
        {
            throw new InvalidOperationException($"{what} inside a parallel round: the step must run alone");
        }
    }
}
