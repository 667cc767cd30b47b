using System.Diagnostics;
using PerfSim.Core.Allocator;
using PerfSim.Core.Costs;
using PerfSim.Core.Events;
using PerfSim.Core.Flush;
using PerfSim.Core.Frames;
using PerfSim.Core.Invariants;
using PerfSim.Core.Memory;
using PerfSim.Core.PageCache;
using PerfSim.Core.PageTables;
using PerfSim.Core.Timeline;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Kernel;

/// <summary>The outcome of one kernel path: 0 or a negative errno, the frame it ended on, and its latency.</summary>
public readonly record struct PathResult(int Error, long Pfn, long LatencyNs)
{
    public bool Ok => Error == 0;
}

/// <summary>
/// The simulated kernel of one host: frames, page allocator, direct map, per-CPU TLBs, flush
/// engine, page cache, mermaps and the invariant checker, wired as the kernel wires them, with one
/// simulated clock per CPU. The kernel paths (secretmem, guest_memfd, population) are its methods;
/// each advances the calling CPU's clock by what it costs, including simulated lock waits.
/// </summary>
/// <remarks>
/// <para>It implements the hooks its parts need from each other: the direct map's page-table
/// source and flushes (<see cref="IPageTableAllocator"/>, <see cref="IDirectMapFlush"/>), the
/// allocator's pageblock flips and free check (<see cref="IPageblockMapper"/>, <see cref="IFreeCheck"/>).</para>
/// <para>Concurrency: one model, the engine's. A CPU's clock and counters are written only by the
/// caller passing that CPU; the page cache and allocator are thread-safe; the direct map, TLBs and
/// flush engine are single-writer. Host threads call the kernel at once only in the engine's
/// parallel rounds, whose steps touch their own CPU's state (<see cref="FaultIsCpuLocal"/>); every
/// other step runs alone, in canonical order.</para>
/// </remarks>
public sealed partial class SimKernel : IDisposable, IPageTableAllocator, IDirectMapFlush, IPageblockMapper, IFreeCheck
{
    private readonly NativeArena _arena = new();
    private readonly CpuState[] _cpus;
    private readonly CpuClocks _clocks;

    /// <summary>Where the paths report what orders CPUs: <see cref="_immediate"/>, or the open
    /// session's logs (<see cref="BeginQuanta"/>).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1859:Use concrete types when possible for improved performance",
        Justification = "Two implementations: the immediate one here, the session's logged one in SimKernel.Quanta.cs.")]
    private OrderedEffects _effects;
    private readonly ImmediateEffects _immediate;
    private readonly List<KernelProcess> _processes = [];

    private ISimEventSink? _eventSink;

    public SimKernel(KernelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Costs = options.Costs;
        Design = Designs.For(options.Strategy, options.FlushPolicy);
        _cpus = new CpuState[options.Cpus];
        _clocks = new CpuClocks(options.Cpus);
        Frames = new FrameTable(_arena, options.Layout);
        Allocator = new PageAllocator(_arena, Frames, new AllocatorOptions { CpuCount = options.Cpus }, mapper: this, freeCheck: this);
        DirectMap = options.BootPlan is null
            ? new DirectMap(_arena, Frames, options.DirectMap, this, this)
            : new DirectMap(_arena, Frames, options.DirectMap, this, this, options.BootPlan);
        Tlb = new TlbModel(options.Cpus, Frames.EndPfn, options.Arch.Geometry);
        Flush = new FlushEngine(Tlb, options.Arch, options.Costs);
        PageCache = new ShardedPageCache(_arena, Frames);
        Checker = new InvariantChecker(DirectMap);
        Host = new HostCpus(options.Cpus, options.Costs);
        _effects = _immediate = new ImmediateEffects(_clocks, _locks, Host);
    }

    public KernelOptions Options { get; }

    public CostProfile Costs { get; }

    public FrameTable Frames { get; }

    public PageAllocator Allocator { get; }

    public DirectMap DirectMap { get; }

    public TlbModel Tlb { get; }

    public FlushEngine Flush { get; }

    public ShardedPageCache PageCache { get; }

    public InvariantChecker Checker { get; }

    /// <summary>What each host CPU is doing, and the cross-CPU call queues: the price of an IPI on
    /// its target (the engine assigns the roles per phase; a CPU it never assigns is a host CPU).</summary>
    public HostCpus Host { get; }

    public int CpuCount => _cpus.Length;

    public Strategy Strategy => Options.Strategy;

    /// <summary>The kernel's NO_DIRECT_MAP design (<see cref="KernelOptions.Strategy"/>'s record).</summary>
    public Design Design { get; }

    /// <summary>Native bytes of the whole model.</summary>
    public long NativeBytes => _arena.AllocatedBytes + Tlb.NativeBytes + Flush.NativeBytes;

    /// <summary>
    /// Receives the kernel's own events: direct-map zaps, restores and splits, flushes, mermap
    /// get/put, violations, hole punches and pageblock flips, stamped with the CPU's clock. Null
    /// (the default) costs each site one predictable branch; the engine swaps it between steps.
    /// </summary>
    public ISimEventSink? EventSink
    {
        get => _deliverTo;
        set
        {
            _deliverTo = value;
            _eventSink = value is not null && _effects is LoggedEffects logged ? logged : value;
            if (_weaver is not null)
            {
                _weaver.Events = value;
            }
            Checker.Sink = _eventSink;
        }
    }

    /// <summary>A workload event on <paramref name="cpu"/>, stamped and routed like the kernel's own.</summary>
    public void EmitEvent(int cpu, SimEventKind kind, long pfn, long extra) => Trace(cpu, kind, pfn, extra);

    /// <summary>CPU <paramref name="cpu"/>'s simulated clock, in ns.</summary>
    public ref long Clock(int cpu) => ref _clocks[cpu];

    public ref KernelCounters CountersOf(int cpu) => ref _cpus[cpu].Counters;

    /// <summary>Every CPU's counters summed (the engine's metrics read it after each quantum, so it allocates nothing).</summary>
    public KernelCounters TotalCounters()
    {
        var total = default(KernelCounters);
        foreach (ref readonly CpuState cpu in _cpus.AsSpan())
        {
            total.Add(in cpu.Counters);
        }

        return total;
    }

    /// <summary>Simulated <c>cpa_lock</c> statistics (x86).</summary>
    public SimLock CpaLock => _locks[SimLockTable.CpaLock];

    /// <summary>Creates a process (an mm) with its mermap prepared (<c>mermap_mm_prepare</c>).</summary>
    public KernelProcess CreateProcess()
    {
        var p = new KernelProcess(_processes.Count, new Mermap.Mermap(Frames, CpuCount, Options.MermapSlicePages));
        _processes.Add(p);
        _locks.ResetLruLock(p.Id);
        return p;
    }

    /// <summary>
    /// A kernel access through the direct map to <paramref name="pages"/> frames (zeroing, a copy,
    /// a background load): each page goes through the CPU's TLB; a hit on a zapped page is a stale
    /// access (an exposure, counted), a miss walks the direct map, and a walk that finds the page
    /// non-present is an oops. Returns false if any page oopsed. Charges walks, not the copy itself.
    /// </summary>
    public bool AccessDirectMap(int cpu, long pfn, long pages, KernelPath path)
    {
        ref CpuState s = ref _cpus[cpu];
        bool ok = true;
        for (long p = pfn; p < pfn + pages; p++)
        {
            DirectMapEntry entry = DirectMap.Lookup(p);
            TlbLookup hit = Tlb.Lookup(cpu, p, entry.IsPresent);
            s.Counters.DirectMapAccesses++;
            if (hit.Hit)
            {
                if (hit.Stale)
                {
                    s.Counters.StaleAccesses++;
                }

                continue;
            }

            ref long clock = ref _clocks[cpu];
            clock += Costs.PageWalkNs;
            if (!entry.IsPresent)
            {
                ok &= Checker.CheckAccess(cpu, p, path, clock);
                continue;
            }

            Tlb.Fill(cpu, p, entry.Level);
        }

        return ok;
    }

    /// <summary>A host path starts on the CPU (every path calls it on entry): a vCPU is out of
    /// guest mode from here, and the path's elapsed latency counts delays from here. In quantum mode
    /// the weave applies it in simulated-time order.</summary>
    public void Enter(int cpu) => _effects.Enter(cpu);

    /// <summary>
    /// <c>folio_zap_direct_map()</c> (gmem v9+ helper): <c>set_direct_map_valid_noflush(.., false)</c>
    /// then, where the architecture does not flush inside it (x86, s390), one
    /// <c>flush_tlb_kernel_range</c> over the folio.
    /// </summary>
    internal int ZapFolio(int cpu, long pfn, long pages, bool flush)
    {
        long zappedAt = _clocks[cpu];
        CpaResult r = RunCpa(cpu, pfn, pages, valid: false);
        if (r.Failed)
        {
            return r.Error;
        }

        ref KernelCounters c = ref _cpus[cpu].Counters;
        c.DirectMapZaps++;
        c.ZappedPages += pages;
        Trace(cpu, SimEventKind.DirectMapZap, pfn, pages);
        if (flush && !DirectMap.Profile.IsArm64)
        {
            FlushRange(cpu, pfn, pages, zappedAt);
        }

        if (flush)
        {
            VerifyZapFlushed(cpu, pfn, pages);
        }

        return 0;
    }

    /// <summary><c>folio_restore_direct_map()</c>: make the folio present again. No flush (a
    /// non-present entry cannot be cached). On x86 it cannot fail once the range is split.</summary>
    internal int RestoreFolio(int cpu, long pfn, long pages)
    {
        CpaResult r = RunCpa(cpu, pfn, pages, valid: true);
        if (!r.Failed)
        {
            _cpus[cpu].Counters.DirectMapRestores++;
            Trace(cpu, SimEventKind.DirectMapRestore, pfn, pages);
        }

        return r.Error;
    }

    /// <summary>One <c>set_direct_map_invalid/default_noflush</c> of a single page (secretmem).</summary>
    internal int SetPageValid(int cpu, long pfn, bool valid)
    {
        long t0 = _clocks[cpu];
        int mark = _effects.Mark(cpu);
        CpaResult r = valid ? DirectMap.SetDefaultNoFlush(cpu, pfn) : DirectMap.SetInvalidNoFlush(cpu, pfn);
        ChargeCpa(cpu, t0, mark, r);
        TraceSplits(cpu, pfn, r);
        AssertDirectMapChanged(pfn, 1, valid, r);
        if (!r.Failed)
        {
            ref KernelCounters c = ref _cpus[cpu].Counters;
            if (valid)
            {
                c.DirectMapRestores++;
            }
            else
            {
                c.DirectMapZaps++;
                c.ZappedPages++;
            }

            Trace(cpu, valid ? SimEventKind.DirectMapRestore : SimEventKind.DirectMapZap, pfn, 1);
        }

        return r.Error;
    }

    /// <summary><c>flush_tlb_kernel_range()</c> issued by <paramref name="cpu"/>; the initiator waits
    /// for its acknowledgements. <paramref name="zappedAtNs"/> closes a zap's exposure window.</summary>
    internal void FlushRange(int cpu, long pfn, long pages, long zappedAtNs)
    {
        if ((Options.Bugs & KernelBugs.SkipFlush) != 0)
        {
            return;
        }

        ref long clock = ref _clocks[cpu];
        FlushOutcome o = Flush.FlushKernelRange(cpu, pfn, pages, clock, zappedAtNs);
        if (o.FullFlush)
        {
            RequireSerial("a full TLB flush");
        }

        // Quantum mode: the other CPUs' invalidations are applied when the quantum closes, the
        // broadcast is woven in time order.
        if (_logs is { } logs && !o.FullFlush)
        {
            int zap = zappedAtNs == FlushEngine.NotZapped ? 0 : o.Stale.PagesWithHolders > 0 ? 2 : 1;
            logs[cpu].AddInvalidation(new RemoteInvalidation(pfn, pages, zap));
        }

        o = CrossCall(cpu, o);
        clock += o.InitiatorLatencyNs;
        if (pages > 0)
        {
            Trace(cpu, SimEventKind.FlushKernelRange, pfn, o.FullFlush ? 0 : pages);
        }
    }

    /// <summary>After a zap path's flush: the zapping CPU must not still reach the pages (it touched
    /// them while zeroing, so without the flush its TLB still holds them). Its own TLB is flushed
    /// at once in quantum mode too, so the check needs no weave.</summary>
    internal void VerifyZapFlushed(int cpu, long pfn, long pages)
    {
        long nowNs = _clocks[cpu];
        for (long p = pfn; p < pfn + pages; p++)
        {
            if (!DirectMap.IsPresent(p) && Tlb.Holds(cpu, p))
            {
                Checker.Record(new Violation(ViolationKind.StaleTranslation, p, cpu, KernelPath.DirectMapZap, nowNs));
            }
        }
    }

    /// <summary>Charges time spent on a CPU without touching shared state.</summary>
    internal void Charge(int cpu, long ns) => _clocks[cpu] += ns;

    private CpaResult RunCpa(int cpu, long pfn, long pages, bool valid)
    {
        long t0 = _clocks[cpu];
        int mark = _effects.Mark(cpu);
        CpaResult r = DirectMap.SetValidNoFlush(cpu, pfn, pages, valid);
        ChargeCpa(cpu, t0, mark, r);
        TraceSplits(cpu, pfn, r);
        AssertDirectMapChanged(pfn, pages, valid, r);
        return r;
    }

    /// <summary>DEBUG, at the end of a CPA call (the <c>cpa_lock</c> region): a call that succeeded
    /// left every page of its range present or not as asked.</summary>
    [Conditional("DEBUG")]
    private void AssertDirectMapChanged(long pfn, long pages, bool valid, in CpaResult r)
    {
        if (r.Failed)
        {
            return;
        }

        for (long p = pfn; p < pfn + pages; p++)
        {
            Debug.Assert(DirectMap.IsPresent(p) == valid, $"pfn {p}: present {!valid} after a CPA call that made it {(valid ? "present" : "not present")}");
        }
    }

    /// <summary>DEBUG, when a quantum session ends (every thread is stopped): the TLB model's and
    /// the allocator's whole-structure checks (region counts and masks; free lists, buddies, counts).</summary>
    [Conditional("DEBUG")]
    private void AssertModelInvariants()
    {
        Tlb.AssertInvariants();
        string? allocator = Allocator.TestHookFindInvariantViolation();
        Debug.Assert(allocator is null, allocator);
    }

    /// <summary>Sends an event stamped with <paramref name="cpu"/>'s clock to <see cref="EventSink"/>, if any.</summary>
    internal void Trace(int cpu, SimEventKind kind, long pfn, long extra)
    {
        if (_eventSink is { } sink)
        {
            sink.Emit(new SimEvent(_clocks[cpu], pfn, extra, cpu, kind));
        }
    }

    /// <summary>A CPA call's splits as events. The primitives report counts, not places: each split
    /// is attributed to the 1G or 2M region holding the call's first frame, which is exact for the
    /// folio- and pageblock-sized (naturally aligned, at most 2 MiB) calls the kernel paths make.</summary>
    private void TraceSplits(int cpu, long pfn, in CpaResult r)
    {
        if (_eventSink is null)
        {
            return;
        }

        for (int i = 0; i < r.Splits1G; i++)
        {
            Trace(cpu, SimEventKind.Split1G, pfn & ~(PageGeometry.PagesPer1G - 1), 0);
        }

        for (int i = 0; i < r.Splits2M; i++)
        {
            Trace(cpu, SimEventKind.Split2M, pfn & ~(PageGeometry.PagesPer2M - 1), 0);
        }
    }

    /// <summary>
    /// Charges a CPA call: every <c>__change_page_attr()</c> round and entry write under the global
    /// <c>cpa_lock</c> (x86), together with what the call did inside it (a split's page-table
    /// allocation and global flush, already added to the clock by the hooks). On x86
    /// <c>split_large_page</c> drops <c>cpa_lock</c> around its <c>alloc_pages</c>
    /// (arch/x86/mm/pat/set_memory.c), so the page-table allocations are not part of the hold: they
    /// are charged before it (the re-acquisition after them is folded into the one hold). arm64
    /// changes PTEs without a global lock; only its splits take <c>pgtable_split_lock</c>, which
    /// <c>split_kernel_leaf_mapping</c> holds across its <c>pagetable_alloc</c> (arch/arm64/mm/mmu.c).
    /// </summary>
    /// <para>In quantum mode the acquisition is logged at its time, ahead of what the call logged
    /// inside the lock (<paramref name="mark"/>), so the CPU's log stays in time order.</para>
    private void ChargeCpa(int cpu, long t0, int mark, CpaResult r)
    {
        ref long clock = ref _clocks[cpu];
        bool x86 = !DirectMap.Profile.IsArm64;
        long unlocked = x86 ? r.Splits * Costs.PageTableAllocNs : 0;
        long inside = clock - t0 - unlocked;
        long hold = inside + (r.LockRounds * Costs.CpaRoundNs) + (r.EntryWrites * Costs.PteWriteNs);
        clock = t0 + unlocked;
        if (x86)
        {
            _cpus[cpu].Counters.CpaLockWaitNs += _effects.Hold(cpu, mark, SimLockTable.CpaLock, hold, Costs.LockHandoffNs);
        }
        else if (r.Splits > 0)
        {
            _effects.Hold(cpu, mark, SimLockTable.SplitLock, hold, Costs.LockHandoffNs);
        }
        else
        {
            clock += hold;
        }
    }

    bool IPageTableAllocator.TryAllocatePageTable(int cpu, out long pfn)
    {
        RequireSerial("a direct-map split");
        _clocks[cpu] += Costs.PageTableAllocNs;
        return Allocator.TryAllocatePageTable(cpu, out pfn);
    }

    void IDirectMapFlush.FlushTlbAll(int cpu)
    {
        ref long clock = ref _clocks[cpu];
        FlushOutcome o = FlushAllCpus(cpu, clock);
        clock += o.InitiatorLatencyNs;
        Trace(cpu, SimEventKind.FlushAll, 0, o.IpiCallbacks);
    }

    /// <summary><c>flush_tlb_all()</c>: every TLB at once; its broadcast is woven in quantum mode.</summary>
    internal FlushOutcome FlushAllCpus(int cpu, long nowNs)
    {
        RequireSerial("flush_tlb_all");
        return CrossCall(cpu, Flush.FlushAll(cpu, nowNs));
    }

    /// <summary>
    /// The cross-CPU part of a flush <paramref name="cpu"/> issues now: <c>on_each_cpu</c>'s
    /// callbacks through the call queues (<see cref="HostCpus"/>), or a broadcast's passage through
    /// the invalidation channel (the wait behind other CPUs' broadcasts). Outside quantum mode the
    /// initiator's latency becomes what it waits for its slowest target and the targets' clocks
    /// take their interrupts at once; in quantum mode the call is logged and the weave applies it
    /// in simulated-time order (the initiator's latency here is its local part).
    /// <paramref name="mask"/>: the targets' cpumask (<see cref="HostCpus.MaskId"/>) or every other CPU.
    /// </summary>
    private FlushOutcome CrossCall(int cpu, FlushOutcome o, int mask = HostCpus.AllOthers)
    {
        // A kernel full flush empties the TLBs: the initiator (and, below, each target that was
        // running host code) then refills its working set (calibration C10). A whole-mm flush of
        // a cpumask drops only that mm's entries: no refill charged. arm64's targets are not
        // charged theirs: its broadcast reaches them without an interrupt to account it to.
        bool refills = o.FullFlush && mask == HostCpus.AllOthers;
        long refill = refills ? Costs.TlbRefillNs : 0;
        if (o.ChannelNs > 0)
        {
            // arm64 / INVLPGB: the invalidations queue in the broadcast channel behind other CPUs'.
            HoldLock(cpu, SimLockTable.TlbBroadcast, o.ChannelNs, handoffNs: 0);
            return o with { InitiatorLatencyNs = o.InitiatorLatencyNs - o.ChannelNs + refill };
        }

        if (o.IpiCallbacks == 0)
        {
            return o with { InitiatorLatencyNs = o.InitiatorLatencyNs + refill };
        }

        long send = _clocks[cpu] + o.CallAtNs;
        long wait = _effects.CrossCall(cpu, send, o.CallbackNs, o.InitiatorLatencyNs - o.CallAtNs, mask, refills);
        return o with { InitiatorLatencyNs = o.InitiatorLatencyNs + wait + refill };
    }

    void IDirectMapFlush.FlushKernelRange(int cpu, long startPfn, long pages) =>
        FlushRange(cpu, startPfn, pages, _clocks[cpu]);

    int IPageblockMapper.Unmap(int cpu, long startPfn, long pages) => FlipPageblock(cpu, startPfn, pages, valid: false);

    void IPageblockMapper.FlushRange(int cpu, long startPfn, long pages) =>
        FlushRange(cpu, startPfn, pages, _clocks[cpu]);

    int IPageblockMapper.Remap(int cpu, long startPfn, long pages) => FlipPageblock(cpu, startPfn, pages, valid: true);

    /// <summary>A pageblock's direct-map flip for ALLOC_UNMAPPED; traced with extra 1 when it maps.</summary>
    private int FlipPageblock(int cpu, long startPfn, long pages, bool valid)
    {
        CpaResult r = RunCpa(cpu, startPfn, pages, valid);
        if (!r.Failed)
        {
            Trace(cpu, SimEventKind.PageblockFlip, startPfn, valid ? 1 : 0);
        }

        return r.Error;
    }

    void IFreeCheck.OnFree(int cpu, long pfn, int order, bool toUnmappedList)
    {
        long now = _clocks[cpu];
        Checker.CheckFree(cpu, pfn, order, toUnmappedList, KernelPath.PageFree, now);
        for (long p = pfn; p < pfn + (1L << order); p++)
        {
            if ((Frames[p].Flags & FrameFlags.MermapStale) != 0)
            {
                Checker.Record(new Violation(ViolationKind.MermapStaleFree, p, cpu, KernelPath.PageFree, now));
            }
        }
    }

    public void Dispose()
    {
        Flush.Dispose();
        Tlb.Dispose();
        _arena.Dispose();
    }

    private struct CpuState
    {
        public KernelCounters Counters;
        public LruAddBatch LruAdd;
    }
}
