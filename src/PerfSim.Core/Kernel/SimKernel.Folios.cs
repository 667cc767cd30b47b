using PerfSim.Core.Allocator;
using PerfSim.Core.Events;
using PerfSim.Core.Flush;
using PerfSim.Core.Frames;
using PerfSim.Core.Invariants;
using PerfSim.Core.Mermap;
using PerfSim.Core.PageCache;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Kernel;

/// <summary>Folio helpers shared by the paths: allocation, insertion, zeroing, zap, release.</summary>
public sealed partial class SimKernel
{
    /// <summary>Allocates a folio for <paramref name="file"/> (order-0 per-CPU list or a 2 MiB
    /// block), charging the per-CPU list refill to the allocation that triggered it.</summary>
    internal bool TryAllocateFolio(int cpu, KernelFile file, out long pfn)
    {
        AllocFlags flags = file.Design.Alloc;
        long refills = Allocator.PcpRefillsOf(cpu);
        long zoneRefills = Allocator.ZoneRefillsOf(cpu);
        Charge(cpu, Costs.FolioAllocNs);
        bool ok = Allocator.TryAllocatePages(cpu, file.FolioOrder, flags, out pfn);
        refills = Allocator.PcpRefillsOf(cpu) - refills;
        if (Allocator.ZoneRefillsOf(cpu) != zoneRefills)
        {
            RequireSerial("a per-CPU list refill from the zone");
        }

        Charge(cpu, refills * Costs.PcpRefillNs);
        return ok;
    }

    /// <summary>
    /// <c>filemap_add_folio()</c> (mm/filemap.c): <c>mem_cgroup_charge</c> first, then
    /// <c>__filemap_add_folio</c>, whose xarray store is the only part under the mapping's
    /// <c>i_pages</c> lock (<c>xas_lock_irq</c>), then, on success, <c>folio_add_lru</c>.
    /// </summary>
    internal AddResult InsertFolio(int cpu, KernelFile file, long index, long pfn)
    {
        TestHookBeforeInsert?.Invoke(file, index);
        Charge(cpu, Costs.MemcgChargeNs);
        HoldLock(cpu, SimLockTable.PagesLock(file.Mapping), Costs.XarrayStoreNs);
        AddResult result = PageCache.FilemapAddFolio(file.Mapping, index, pfn, file.FolioOrder);
        if (result == AddResult.Added)
        {
            FolioAddLru(cpu, file);
        }

        return result;
    }

    /// <summary>Statistics of simulated lock <paramref name="id"/> (<see cref="SimLockTable"/>'s ids).</summary>
    internal SimLock SimulatedLock(int id) => _locks[id];

    /// <summary>Holds simulated lock <paramref name="lockId"/> for <paramref name="holdNs"/>: at once,
    /// or logged for the weave in quantum mode (the clock then advances by the hold only).</summary>
    private void HoldLock(int cpu, int lockId, long holdNs, long? handoffNs = null)
    {
        _effects.Hold(cpu, _effects.Mark(cpu), lockId, holdNs, handoffNs ?? Costs.LockHandoffNs);
    }

    /// <summary>
    /// <c>folio_add_lru()</c> (mm/swap.c): the folio joins this CPU's <c>lru_add</c> folio_batch; the
    /// batch is moved to the LRU when it is full (PAGEVEC_SIZE, include/linux/pagevec.h) or at once for
    /// a large folio (<c>folio_test_large</c>). <c>folio_batch_move_lru</c> takes the lruvec's
    /// <c>lru_lock</c> once for the run of folios of one lruvec and adds each under it. Here a folio
    /// of another process's lruvec first moves the batch (the kernel would relock mid-batch: the
    /// same holds, a little later).
    /// </summary>
    private void FolioAddLru(int cpu, KernelFile file)
    {
        ref LruAddBatch batch = ref _cpus[cpu].LruAdd;
        if (batch.Count > 0 && batch.Process != file.Process.Id)
        {
            FolioBatchMoveLru(cpu, ref batch);
        }

        batch.Process = file.Process.Id;
        batch.Count++;
        if (batch.Count == LruAddBatch.Size || file.FolioOrder > 0)
        {
            FolioBatchMoveLru(cpu, ref batch);
        }
    }

    private void FolioBatchMoveLru(int cpu, ref LruAddBatch batch)
    {
        HoldLock(cpu, SimLockTable.LruLock(batch.Process), batch.Count * Costs.LruAddNs);
        batch.Count = 0;
    }

    /// <summary>Zeroes a folio the way the strategy allows: <c>clear_highpage()</c> through the direct
    /// map, or, when the folio never had a direct-map alias (ALLOC_UNMAPPED), through the mermap.</summary>
    internal void ZeroFolio(int cpu, KernelFile file, long pfn, KernelPath path)
    {
        long pages = 1L << file.FolioOrder;
        if (file.Design.Zero == ZeroThrough.Mermap)
        {
            MermapCopy(cpu, file, pfn, pages);
        }
        else
        {
            AccessDirectMap(cpu, pfn, pages, path);
        }

        Charge(cpu, pages * Costs.Zero4KNs);
        CountersOf(cpu).ZeroedPages += pages;
        ref Frame head = ref Frames[pfn];
        head.Flags |= FrameFlags.Zeroed | FrameFlags.Uptodate;
    }

    internal bool IsUptodate(long pfn) => (Frames[pfn].Flags & FrameFlags.Uptodate) != 0;

    /// <summary>Maps <paramref name="pages"/> frames through a mermap slot for a kernel copy, and
    /// unmaps them. A failed get falls back to the reserved page, one page at a time (the
    /// documented fallback: <c>mermap_get_reserved</c> always succeeds).</summary>
    internal void MermapCopy(int cpu, KernelFile file, long pfn, long pages)
    {
        Mermap.Mermap mermap = file.Process.Mermap!;
        ref KernelCounters c = ref CountersOf(cpu);
        MermapGetResult got = mermap.TryGet(cpu, pfn, pages, out MermapAllocation slot, out bool flushed);
        c.MermapGets++;
        Trace(cpu, SimEventKind.MermapGet, pfn, pages);
        if (got == MermapGetResult.Ok)
        {
            if (flushed)
            {
                LocalMermapFlush(cpu);
            }

            Charge(cpu, 2 * pages * Costs.MermapPteNs);
            mermap.Put(slot);
            Trace(cpu, SimEventKind.MermapPut, pfn, pages);
            return;
        }

        c.MermapFallbacks++;
        for (long p = pfn; p < pfn + pages; p++)
        {
            mermap.GetReserved(cpu, p);
            Charge(cpu, 2 * Costs.MermapPteNs);
        }
    }

    /// <summary><c>arch_mermap_flush_tlb()</c>: x86 flushes this CPU only; arm64 needs a broadcast
    /// TLBI (break-before-make), modelled as a flush of every CPU.</summary>
    private void LocalMermapFlush(int cpu)
    {
        ref long clock = ref Clock(cpu);
        bool arm64 = DirectMap.Profile.IsArm64;
        FlushOutcome o = arm64 ? FlushAllCpus(cpu, clock) : Flush.FlushLocalAll(cpu, clock);
        clock += o.InitiatorLatencyNs;
        CountersOf(cpu).MermapLocalFlushes++;
        Trace(cpu, arm64 ? SimEventKind.FlushAll : SimEventKind.FlushLocal, 0, o.IpiCallbacks);
    }

    /// <summary>
    /// The per-folio designs' zap at first mapping (<c>kvm_gmem_folio_zap_direct_map</c>): nothing if
    /// the folio's <c>KVM_GMEM_FOLIO_NO_DIRECT_MAP</c> bit is set; otherwise zap + flush and set the
    /// bit only on success (v11).
    /// </summary>
    internal int ZapFolioOnce(int cpu, KernelFile file, long pfn)
    {
        ref Frame head = ref Frames[pfn];
        if ((head.Flags & FrameFlags.NoDirectMap) != 0)
        {
            return 0;
        }

        int error = ZapFolioByPolicy(cpu, file, pfn);
        if (error == 0)
        {
            head.Flags |= FrameFlags.NoDirectMap;
        }

        return error;
    }

    /// <summary>Frees a folio's frames to the allocator (the page cache's reference dropped). A
    /// folio whose direct-map state is unknown after a failed restore is leaked, as the kernel must.</summary>
    internal void PutFolio(int cpu, long pfn, int order)
    {
        if (Frames[pfn].Owner == FrameOwner.Leaked)
        {
            CountersOf(cpu).LeakedFrames += 1L << order;
            return;
        }

        Allocator.FreePages(cpu, pfn, order);
        CountersOf(cpu).FoliosFreed++;
    }

    /// <summary>Leaks a folio whose direct-map state is unknown (a failed CPA call cannot be rolled back).</summary>
    internal void LeakFolio(long pfn, int order)
    {
        for (long p = pfn; p < pfn + (1L << order); p++)
        {
            Frames[p].Owner = FrameOwner.Leaked;
        }
    }

    /// <summary>Before freeing frames that a mermap slot mapped and no flush has covered since, flush
    /// the mm's mermap region (mm/mermap.c rule; <c>mapping_check_flush_mermap</c> in the ALLOC_UNMAPPED
    /// fast path) on the CPUs that may hold it (<see cref="FlushMermapRegion"/>).</summary>
    internal void FlushMermapBeforeFree(int cpu, KernelFile file, long pfn, int order)
    {
        bool stale = false;
        for (long p = pfn; p < pfn + (1L << order) && !stale; p++)
        {
            stale = (Frames[p].Flags & FrameFlags.MermapStale) != 0;
        }

        if (!stale || file.Process.Mermap is not { } mermap)
        {
            return;
        }

        FlushMermapRegion(cpu, mermap);
    }
}

/// <summary>A CPU's <c>cpu_fbatches.lru_add</c> folio_batch (mm/swap.c): how many folios wait in
/// it and whose lruvec they belong to.</summary>
internal struct LruAddBatch
{
    /// <summary>PAGEVEC_SIZE (include/linux/pagevec.h: 31 today, 15 in older kernels).</summary>
    public const int Size = 31;

    public int Count;
    public int Process;
}
