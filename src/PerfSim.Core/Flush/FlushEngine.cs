using System.Numerics;
using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Memory;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Flush;

/// <summary>
/// Simulates the kernel's direct-map TLB flushes for one architecture profile: which CPUs are
/// reached, by which primitive, how many invalidations run, what the initiator waits and what the
/// targets pay, and the stale-translation exposure each flush closes.
/// </summary>
/// <remarks>
/// <para><b>Rules</b>: the architecture's <see cref="IFlushModel"/> (<see cref="ArchProfile.Flush"/>)
/// decides when a range becomes a full flush and prices each flush: <see cref="X86IpiFlush"/>,
/// <see cref="X86InvlpgbFlush"/>, <see cref="Arm64TlbiFlush"/>. The engine does the invalidations,
/// the counters and the exposure, the same for every architecture. What an IPI costs its target is
/// the call queue's (<see cref="Timeline.HostCpus"/>), which the kernel calls in simulated-time order.</para>
/// <para><b>Cost of simulating.</b> A full flush is O(1) (TLB epochs); a ranged flush is
/// O(pages + regions × cpus/64 + holders × pages). Nothing is allocated per flush.</para>
/// <para><b>Concurrency contract.</b> The flush methods whose name does not say Local
/// (<see cref="FlushKernelRange"/>, <see cref="FlushKernelRanges"/>, <see cref="FlushAll"/>) and
/// <see cref="FlushLocalRange"/> are <i>initiator</i> operations: they write other CPUs' TLB state
/// so they must not run concurrently with anything on the same
/// <see cref="TlbModel"/> (call them single-threaded or at a quantum barrier in canonical order).
/// <see cref="FlushLocalAll"/> of CPU c touches only CPU c's state
/// and may run on c's host thread. Counters are kept per initiating CPU (own cache lines) and merged
/// by <see cref="TotalCounters"/> / <see cref="TotalExposure"/> at the end of a run.</para>
/// <para><b>Time.</b> The TLB entries are removed when the flush is simulated; the exposure window
/// of a zapped page ends when the initiator's wait ends, which is when the kernel knows every CPU
/// has flushed: <c>nowNs + InitiatorLatencyNs</c>, and on x86 with IPIs plus the nominal wait
/// (<see cref="FlushCost.NominalWaitNs"/>: targets in the host, queues empty). The extra wait a
/// target's state or queue adds (docs/tlb-flush-costs.md) is in the initiator's latency, not in
/// the window.</para>
/// </remarks>
public sealed class FlushEngine : IDisposable
{
    /// <summary>Marks a range that is not closing a zap.</summary>
    public const long NotZapped = -1;

    /// <summary><c>TLB_FLUSH_ALL</c> as the page count of <see cref="FlushMmRange"/>: the whole mm.</summary>
    public const long WholeMm = long.MaxValue;

    /// <summary>Buckets of the per-page exposure histogram: bucket b counts windows in
    /// [2^(b−1), 2^b) ns (bucket 0: 0 ns).</summary>
    public const int HistogramBuckets = 64;

    private readonly NativeArena _arena = new();
    private readonly NativeArray<FlushCpuState> _cpus;
    private readonly NativeArray<long> _histogram;
    private readonly TlbModel _tlb;

    /// <summary>What prices a user-mm flush sent by IPIs (<see cref="FlushMmRange"/>).</summary>
    private readonly IFlushModel _ipiModel;
    private bool _disposed;

    /// <summary>Creates the engine for <paramref name="tlb"/> (not owned) with the rules of
    /// <paramref name="arch"/> and the prices of <paramref name="costs"/>.</summary>
    public FlushEngine(TlbModel tlb, ArchProfile arch, CostProfile costs)
    {
        ArgumentNullException.ThrowIfNull(tlb);
        ArgumentNullException.ThrowIfNull(arch);
        ArgumentNullException.ThrowIfNull(costs);
        arch.Validate();
        costs.Validate();
        _tlb = tlb;
        Arch = arch;
        Costs = costs;
        _cpus = _arena.Allocate<FlushCpuState>(tlb.CpuCount);
        // An INVLPGB part flushes an mm without a global ASID by IPIs, with the same ceiling.
        _ipiModel = arch.Flush is X86InvlpgbFlush b ? new X86IpiFlush { SinglePageFlushCeiling = b.SinglePageFlushCeiling } : arch.Flush;
        _histogram = _arena.Allocate<long>((long)tlb.CpuCount * HistogramBuckets);
    }

    public ArchProfile Arch { get; }

    public CostProfile Costs { get; }

    public TlbModel Tlb => _tlb;

    /// <summary>
    /// Quantum mode (docs/engine.md): a ranged flush invalidates the initiator's own TLB only; the
    /// caller applies the other CPUs' invalidations later with <see cref="InvalidateDeferred"/>
    /// (the engine: when the quantum closes). A ranged flush then
    /// touches only the initiator's own state and may run on the initiator's host thread. Set by
    /// the kernel's <see cref="Kernel.QuantumSession"/> only.
    /// </summary>
    public bool DeferRemote { get; internal set; }

    /// <summary>Online CPUs (all simulated CPUs are online).</summary>
    public int OnlineCpus => _tlb.CpuCount;

    /// <summary>Native bytes owned by the engine (0 after <see cref="Dispose"/>).</summary>
    public long NativeBytes => _arena.AllocatedBytes;

    /// <summary><c>flush_tlb_kernel_range(start, start + pages)</c> issued by
    /// <paramref name="initiatorCpu"/> at <paramref name="nowNs"/>. Pass
    /// <paramref name="zappedAtNs"/> when the flush closes a present→non-present change made at that
    /// time, to record the exposure window and stale holders of each page.</summary>
    public FlushOutcome FlushKernelRange(int initiatorCpu, long startPfn, long pages, long nowNs, long zappedAtNs = NotZapped)
    {
        var range = new PfnRange(startPfn, pages, zappedAtNs);
        return FlushKernelRanges(initiatorCpu, new ReadOnlySpan<PfnRange>(in range), nowNs);
    }

    /// <summary>One batched flush of several ranges: a single IPI round (x86), one TLBSYNC or one
    /// DSB wait, with the threshold applied to the total page count. This is what designs that
    /// batch (per folio batch, per pageblock flip, per population call) pay; see
    /// <see cref="FlushBatch"/>.</summary>
    public FlushOutcome FlushKernelRanges(int initiatorCpu, ReadOnlySpan<PfnRange> ranges, long nowNs)
    {
        ref FlushCpuState s = ref _cpus[initiatorCpu];
        long total = 0;
        foreach (PfnRange r in ranges)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(r.Pages, nameof(ranges));
            total += r.Pages;
        }

        if (total == 0)
        {
            return default;
        }

        s.KernelRangeFlushes++;
        bool full = Arch.Flush.IsFullFlush(total);
        StaleTally tally = Invalidate(ranges, full, onlyCpu: DeferRemote && !full ? initiatorCpu : -1);
        AddTally(ref s, tally);
        FlushOutcome outcome = Charge(ref s, ranges, total, full, tally, out long nominalWaitNs);
        RecordExposure(initiatorCpu, ref s, ranges, nowNs + outcome.InitiatorLatencyNs + nominalWaitNs);
        return outcome;
    }

    /// <summary><c>flush_tlb_all()</c>: a full flush of every CPU (as after a direct-map split).</summary>
    public FlushOutcome FlushAll(int initiatorCpu, long nowNs)
    {
        _ = nowNs;
        ref FlushCpuState s = ref _cpus[initiatorCpu];
        s.FlushAlls++;
        _tlb.FlushAllCpus();
        return Charge(ref s, [], 0, full: true, default, out _);
    }

    /// <summary>Local full flush of <paramref name="cpu"/> only (x86 <c>__flush_tlb_all()</c>, the
    /// mermap slot wrap-around and DEBUG_PAGEALLOC; arm64 <c>local_flush_tlb_all</c>). No other CPU
    /// is touched. Owner operation.</summary>
    public FlushOutcome FlushLocalAll(int cpu, long nowNs)
    {
        _ = nowNs;
        ref FlushCpuState s = ref _cpus[cpu];
        s.LocalFlushes++;
        s.FullFlushes++;
        _tlb.FlushLocalAll(cpu);
        FlushCost cost = Arch.Flush.Local(0, full: true, Costs);
        AddCost(ref s, cost);
        return new FlushOutcome(cost.LatencyNs, true, 0, cost.Ops, 0, 0, default);
    }

    /// <summary>Local flush of a page range on <paramref name="cpu"/> only (per page or by range, or a
    /// local full flush past the model's <see cref="IFlushModel.IsFullFlush"/> threshold, the same
    /// one kernel-range flushes use). Initiator operation (it uses the model's scratch).</summary>
    public FlushOutcome FlushLocalRange(int cpu, long startPfn, long pages, long nowNs, long zappedAtNs = NotZapped)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pages);
        if (pages == 0)
        {
            return default;
        }

        ref FlushCpuState s = ref _cpus[cpu];
        s.LocalFlushes++;
        bool full = Arch.Flush.IsFullFlush(pages);
        var range = new PfnRange(startPfn, pages, zappedAtNs);
        StaleTally tally = zappedAtNs != NotZapped || !full ? _tlb.InvalidateRange(startPfn, pages, cpu) : default;
        if (full)
        {
            _tlb.FlushLocalAll(cpu);
            s.FullFlushes++;
        }

        FlushCost cost = Arch.Flush.Local(pages, full, Costs);
        AddCost(ref s, cost);
        if (zappedAtNs != NotZapped)
        {
            AddTally(ref s, tally);
        }

        RecordExposure(cpu, ref s, new ReadOnlySpan<PfnRange>(in range), nowNs + cost.LatencyNs);
        return new FlushOutcome(cost.LatencyNs, full, 0, cost.Ops, 0, 0, zappedAtNs != NotZapped ? tally : default);
    }

    /// <summary>
    /// The TLB part of <c>flush_tlb_mm_range(mm, start, end, PAGE_SHIFT, false)</c> for
    /// <paramref name="pages"/> user pages of one mm, issued by <paramref name="cpu"/>
    /// (arch/x86/mm/tlb.c): more pages than the ceiling flush the mm's whole ASID (the same
    /// <see cref="IFlushModel.IsFullFlush"/> rule); <paramref name="broadcast"/> (an mm with a
    /// global ASID under INVLPGB, arm64's TLBI…IS) reaches every CPU without IPIs; otherwise the
    /// callbacks go to <paramref name="ipiTargets"/> other CPUs of the mm's cpumask (none: the local
    /// flush alone). The TLB model holds the direct map only, so no entry is removed: this prices
    /// and counts. Touches only the initiator's counters.
    /// </summary>
    public FlushOutcome FlushMmRange(int cpu, long pages, int ipiTargets, bool broadcast)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pages, 1);
        ref FlushCpuState s = ref _cpus[cpu];
        s.MmRangeFlushes++;
        bool full = Arch.Flush.IsFullFlush(pages);
        if (full)
        {
            s.FullFlushes++;
        }

        // User addresses, not frames: the models read only the ranges' page counts.
        var range = new PfnRange(0, pages, NotZapped);
        int targets = broadcast ? OnlineCpus - 1 : ipiTargets;
        FlushCost cost = targets == 0 ? Arch.Flush.Local(pages, full, Costs)
            : broadcast ? Arch.Flush.Broadcast(new ReadOnlySpan<PfnRange>(in range), pages, full, targets, Costs)
            : _ipiModel.Broadcast(new ReadOnlySpan<PfnRange>(in range), pages, full, targets, Costs);
        AddCost(ref s, cost);
        return new FlushOutcome(cost.LatencyNs, full, cost.IpiCallbacks, cost.Ops, targets, cost.CallbackNs, default, cost.CallAtNs, cost.ChannelNs);
    }

    /// <summary>Cross-CPU callbacks that are not a host TLB flush (KVM's kick of vCPUs in guest
    /// mode for <c>kvm_flush_remote_tlbs</c>), counted with the flushes' callbacks.</summary>
    public void CountCallbacks(int cpu, int callbacks) => _cpus[cpu].IpiCallbacks += callbacks;

    /// <summary>The other CPUs' invalidations of a ranged flush that <paramref name="initiatorCpu"/>
    /// issued under <see cref="DeferRemote"/> (its own TLB was done then). When the flush closed a
    /// zap, the holders found join the initiator's exposure: pairs add up, and a page counts as held
    /// once (exact for one-page flushes, where <paramref name="initiatorHeld"/> says whether the
    /// initiator held it; a multi-page flush may count a page held on both sides twice).
    /// Initiator operation.</summary>
    public void InvalidateDeferred(int initiatorCpu, long startPfn, long pages, bool zapped, bool initiatorHeld)
    {
        StaleTally remote = _tlb.InvalidateRange(startPfn, pages);
        if (zapped && remote.HolderPairs > 0)
        {
            ref FlushCpuState s = ref _cpus[initiatorCpu];
            s.PagesWithHolders += pages == 1 && initiatorHeld ? 0 : remote.PagesWithHolders;
            s.HolderPairs += remote.HolderPairs;
            s.MaxHolders = Math.Max(s.MaxHolders, remote.MaxHolders + (initiatorHeld ? 1 : 0));
        }
    }

    /// <summary>Counters of initiating CPU <paramref name="cpu"/>.</summary>
    public FlushCounters CountersOf(int cpu)
    {
        ref FlushCpuState s = ref _cpus[cpu];
        return new FlushCounters(s.KernelRangeFlushes, s.FlushAlls, s.LocalFlushes, s.FullFlushes, s.IpiCallbacks,
            s.Invlpg, s.TlbiOps, s.InvlpgbOps, s.Tlbsyncs, s.MmRangeFlushes);
    }

    /// <summary>All initiators' counters merged.</summary>
    public FlushCounters TotalCounters()
    {
        FlushCounters total = default;
        for (int c = 0; c < OnlineCpus; c++)
        {
            total += CountersOf(c);
        }

        return total;
    }

    /// <summary>Exposure closed by flushes that <paramref name="cpu"/> initiated.</summary>
    public StaleExposure ExposureOf(int cpu)
    {
        ref FlushCpuState s = ref _cpus[cpu];
        return new StaleExposure(s.ZappedPages, s.PagesWithHolders, s.HolderPairs, (int)s.MaxHolders, s.WindowSumNs, s.WindowMaxNs);
    }

    /// <summary>All initiators' exposure merged.</summary>
    public StaleExposure TotalExposure()
    {
        StaleExposure total = default;
        for (int c = 0; c < OnlineCpus; c++)
        {
            total += ExposureOf(c);
        }

        return total;
    }

    /// <summary>Adds the exposure-window histogram of every initiator into
    /// <paramref name="buckets"/> (length ≥ <see cref="HistogramBuckets"/>).</summary>
    public void AddExposureHistogram(Span<long> buckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets.Length, HistogramBuckets, nameof(buckets));
        for (int c = 0; c < OnlineCpus; c++)
        {
            Span<long> mine = _histogram.Slice((long)c * HistogramBuckets, HistogramBuckets);
            for (int b = 0; b < HistogramBuckets; b++)
            {
                buckets[b] += mine[b];
            }
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _arena.Dispose();
        }
    }

    private StaleTally Invalidate(ReadOnlySpan<PfnRange> ranges, bool full, int onlyCpu)
    {
        StaleTally tally = default;
        foreach (PfnRange r in ranges)
        {
            if (r.ZappedAtNs != NotZapped)
            {
                tally += _tlb.InvalidateRange(r.StartPfn, r.Pages, onlyCpu);
            }
            else if (!full)
            {
                _tlb.InvalidateRange(r.StartPfn, r.Pages, onlyCpu);
            }
        }

        if (full)
        {
            _tlb.FlushAllCpus();
        }

        return tally;
    }

    private FlushOutcome Charge(ref FlushCpuState s, ReadOnlySpan<PfnRange> ranges, long pages, bool full, StaleTally tally, out long nominalWaitNs)
    {
        int targets = OnlineCpus - 1;
        if (full)
        {
            s.FullFlushes++;
        }

        FlushCost cost = Arch.Flush.Broadcast(ranges, pages, full, targets, Costs);
        AddCost(ref s, cost);
        nominalWaitNs = cost.NominalWaitNs;
        return new FlushOutcome(cost.LatencyNs, full, cost.IpiCallbacks, cost.Ops, targets, cost.CallbackNs, tally, cost.CallAtNs, cost.ChannelNs);
    }

    private void RecordExposure(int cpu, ref FlushCpuState s, ReadOnlySpan<PfnRange> ranges, long completedNs)
    {
        foreach (PfnRange r in ranges)
        {
            if (r.ZappedAtNs == NotZapped || r.Pages == 0)
            {
                continue;
            }

            long window = Math.Max(0, completedNs - r.ZappedAtNs);
            s.ZappedPages += r.Pages;
            s.WindowSumNs += window * r.Pages;
            s.WindowMaxNs = Math.Max(s.WindowMaxNs, window);
            int bucket = 64 - BitOperations.LeadingZeroCount((ulong)window);
            _histogram[((long)cpu * HistogramBuckets) + Math.Min(bucket, HistogramBuckets - 1)] += r.Pages;
        }
    }

    private static void AddCost(ref FlushCpuState s, in FlushCost cost)
    {
        s.IpiCallbacks += cost.IpiCallbacks;
        s.Invlpg += cost.Invlpg;
        s.TlbiOps += cost.TlbiOps;
        s.InvlpgbOps += cost.InvlpgbOps;
        s.Tlbsyncs += cost.Tlbsyncs;
    }

    /// <summary>Adds a tally to the initiator's exposure (separate so that ranges of one batch share it).</summary>
    private static void AddTally(ref FlushCpuState s, StaleTally tally)
    {
        s.PagesWithHolders += tally.PagesWithHolders;
        s.HolderPairs += tally.HolderPairs;
        s.MaxHolders = Math.Max(s.MaxHolders, tally.MaxHolders);
    }
}
