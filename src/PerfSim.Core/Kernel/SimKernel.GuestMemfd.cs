using PerfSim.Core.Events;
using PerfSim.Core.Frames;
using PerfSim.Core.Invariants;
using PerfSim.Core.PageCache;
using PerfSim.Core.PageTables;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Kernel;

/// <summary>guest_memfd (virt/kvm/guest_memfd.c) with the NO_DIRECT_MAP designs of Kernel/Designs/ (docs/kernel-paths.md).</summary>
public sealed partial class SimKernel
{
    /// <summary>
    /// <c>KVM_CREATE_GUEST_MEMFD</c>. NO_DIRECT_MAP is offered only when the kernel implements a
    /// strategy, <c>can_set_direct_map()</c> holds, and the VM is neither TDX nor SNP
    /// (<c>kvm_arch_gmem_supports_no_direct_map</c>, v12), and on arm64 the CPUs have FEAT_S2FWB
    /// (<see cref="KernelOptions.Stage2Fwb"/>): a refusal at creation; INIT_SHARED needs
    /// MMAP and a VM without private memory.
    /// </summary>
    public int GmemCreate(KernelProcess process, long sizePages, GmemFlags flags, VmType vm, out KernelFile? file)
    {
        ArgumentNullException.ThrowIfNull(process);
        file = null;
        // INIT_SHARED needs MMAP, and a VM with private memory (TDX, SNP) cannot have it
        // (kvm_gmem_get_supported_flags; arch/x86/kvm/x86.c: kvm_arch_supports_gmem_init_shared).
        if ((flags & GmemFlags.InitShared) != 0 && ((flags & GmemFlags.Mmap) == 0 || vm != VmType.Default))
        {
            return Errno.EINVAL;
        }

        // arm64 also needs FEAT_S2FWB: without it stage-2 mapping cleans the page through the
        // linear map (kvm_arch_gmem_supports_no_direct_map, v10 08/15).
        bool archRefuses = DirectMap.Profile.IsArm64 && !Options.Stage2Fwb;
        if ((flags & GmemFlags.NoDirectMap) != 0
            && (!Design.RemovesDirectMap || !DirectMap.Profile.CanSetDirectMap || vm != VmType.Default || archRefuses))
        {
            return Errno.EINVAL;
        }

        int order = Options.GuestFolioOrder;
        if (sizePages <= 0 || (sizePages & ((1L << order) - 1)) != 0)
        {
            return Errno.EINVAL;
        }

        Design design = (flags & GmemFlags.NoDirectMap) != 0 ? Design : Designs.DirectMapKept;
        EnsureZapBatches(design);
        var probe = new KernelFile(FileKind.GuestMemfd, 0, sizePages, flags, order, process, design);
        if (!PageCache.TryCreateMapping(probe.AddressSpaceFlags, sizePages, out ushort mapping))
        {
            return Errno.ENFILE;
        }

        file = new KernelFile(FileKind.GuestMemfd, mapping, sizePages, flags, order, process, design) { InvalidateLock = new SimRwLock(CpuCount), Vm = vm };
        RegisterFile(file);
        return 0;
    }

    /// <summary>
    /// <c>kvm_gmem_get_pfn()</c>: a guest fault on private memory (no invalidate lock, see
    /// <see cref="GmemFault"/>): get or create the folio, zero it if not uptodate, then per strategy: v9–v11 prepare → zap;
    /// v12 zap → prepare; filemap: already zapped at insertion; ALLOC_UNMAPPED: never mapped.
    /// </summary>
    public PathResult GmemGetPfn(int cpu, KernelFile file, long index)
    {
        ArgumentNullException.ThrowIfNull(file);
        Enter(cpu);
        long start = Clock(cpu);
        Charge(cpu, Costs.VmExitRoundTripNs + Costs.GuestFaultBaseNs);
        PathResult r = GmemFault(cpu, file, index, userMapping: false);
        long latency = Clock(cpu) - start;
        ref KernelCounters c = ref CountersOf(cpu);
        c.Faults++;
        return r with { LatencyNs = latency };
    }

    /// <summary><c>kvm_gmem_fault_user_mapping()</c>: a userspace fault through the guest_memfd mmap
    /// (MMAP and INIT_SHARED only, else SIGBUS); the per-folio designs zap before returning the page.</summary>
    public PathResult GmemUserFault(int cpu, KernelFile file, long index)
    {
        ArgumentNullException.ThrowIfNull(file);
        Enter(cpu);
        long start = Clock(cpu);
        Charge(cpu, Costs.UserFaultBaseNs);
        if ((file.Flags & (GmemFlags.Mmap | GmemFlags.InitShared)) != (GmemFlags.Mmap | GmemFlags.InitShared))
        {
            return new PathResult(Errno.EFAULT, -1, Clock(cpu) - start);
        }

        PathResult r = GmemFault(cpu, file, index, userMapping: true);
        if (r.Ok)
        {
            // The PTE now maps the folio in the VMM's page tables (truncation must zap it).
            Frames[r.Pfn & ~((1L << file.FolioOrder) - 1)].Flags |= FrameFlags.UserMapped;
        }

        CountersOf(cpu).UserFaults++;
        return r with { LatencyNs = Clock(cpu) - start };
    }

    /// <summary>The fault body shared by <c>kvm_gmem_get_pfn()</c> and
    /// <c>kvm_gmem_fault_user_mapping()</c>. Neither takes <c>filemap_invalidate_lock</c> in 6.18
    /// (virt/kvm/guest_memfd.c: the folio lock from <c>kvm_gmem_get_folio</c> is what serialises
    /// them against truncation), so a fault never waits for PUNCH_HOLE or populate here.</summary>
    private PathResult GmemFault(int cpu, KernelFile file, long index, bool userMapping)
    {
        if ((ulong)index >= (ulong)file.SizePages)
        {
            return new PathResult(Errno.EINVAL, -1, 0);
        }

        int error = GetFolio(cpu, file, index, out long pfn);
        if (error != 0)
        {
            return new PathResult(error, -1, 0);
        }

        Design design = file.Design;
        bool zapsHere = design.Zap == ZapPoint.FirstMap;
        bool zeroAfterZap = (Options.Bugs & KernelBugs.ZeroAfterZap) != 0 && zapsHere;
        if (!IsUptodate(pfn) && !zeroAfterZap)
        {
            ZeroFolio(cpu, file, pfn, KernelPath.ClearHighpage);
        }

        // kvm_arch_gmem_prepare(): before the zap (v9–v11) or after it (v12); user mappings skip it.
        bool prepareFirst = !zapsHere || design.PrepareBeforeZap;
        if (!userMapping && prepareFirst)
        {
            Charge(cpu, Costs.GmemPrepareNs);
        }

        if (zapsHere)
        {
            error = ZapFolioOnce(cpu, file, pfn);
            if (error != 0)
            {
                return new PathResult(error, -1, 0);
            }

            if (!userMapping && !prepareFirst)
            {
                Charge(cpu, Costs.GmemPrepareNs);
            }
        }

        if (zeroAfterZap && !IsUptodate(pfn))
        {
            ZeroFolio(cpu, file, pfn, KernelPath.ClearHighpage);
        }

        return new PathResult(0, pfn + (index & ((1L << file.FolioOrder) - 1)), 0);
    }

    /// <summary>
    /// <c>kvm_gmem_get_folio()</c>: look up the folio covering <paramref name="index"/>, or allocate
    /// and insert one. The filemap-level design zaps in <c>filemap_add_folio()</c>, so it zeroes
    /// first (a page inserted into an AS_NO_DIRECT_MAP cache must already be zeroed) and restores
    /// if the insert loses to another one (-EEXIST).
    /// </summary>
    internal int GetFolio(int cpu, KernelFile file, long index, out long pfn)
    {
        long folioIndex = index & ~((1L << file.FolioOrder) - 1);
        bool zapAtInsert = file.Design.Zap == ZapPoint.PageCacheInsert;
        while (true)
        {
            if (PageCache.TryLookup(file.Mapping, folioIndex, out Folio found))
            {
                pfn = found.Pfn;
                return 0;
            }

            if (!TryAllocateFolio(cpu, file, out pfn))
            {
                return Errno.ENOMEM;
            }

            long pages = 1L << file.FolioOrder;
            if (zapAtInsert)
            {
                ZeroFolio(cpu, file, pfn, KernelPath.ClearHighpage);
                int error = ZapFolio(cpu, pfn, pages, flush: file.Design.Flush == FlushPolicy.PerZap);
                if (error != 0)
                {
                    PutFolio(cpu, pfn, file.FolioOrder);
                    return error;
                }
            }

            if (InsertFolio(cpu, file, folioIndex, pfn) == AddResult.Added)
            {
                return 0;
            }

            if (zapAtInsert)
            {
                CountersOf(cpu).EexistRestores++;
            }

            if (zapAtInsert && RestoreFolio(cpu, pfn, pages) != 0)
            {
                LeakFolio(pfn, file.FolioOrder);
            }
            else
            {
                PutFolio(cpu, pfn, file.FolioOrder);
            }

            CountersOf(cpu).EexistRetries++;
        }
    }

    /// <summary>
    /// <c>fallocate()</c> without PUNCH_HOLE: pre-allocate the folios of [start, start+pages) with no
    /// zeroing and no prepare (except the filemap design, which must zero before inserting).
    /// </summary>
    public int GmemFallocate(int cpu, KernelFile file, long start, long pages)
    {
        ArgumentNullException.ThrowIfNull(file);
        Enter(cpu);
        long step = 1L << file.FolioOrder;
        for (long index = start & ~(step - 1); index < Math.Min(start + pages, file.SizePages); index += step)
        {
            int error = GetFolio(cpu, file, index, out _);
            if (error != 0)
            {
                return error;
            }
        }

        return 0;
    }

    /// <summary>
    /// <c>FALLOC_FL_PUNCH_HOLE</c> (§4.5): <c>filemap_invalidate_lock</c> exclusive,
    /// <c>kvm_gmem_invalidate_begin</c> (SPTEs zapped, then <c>kvm_flush_remote_tlbs</c>: a kick
    /// to the VM's vCPUs, <see cref="KvmFlushRemoteTlbs"/>), truncate the range
    /// (<c>truncate_inode_pages_range</c>: a folio the VMM mapped through the guest_memfd mmap is
    /// first unmapped, <c>truncate_cleanup_folio</c> → <c>unmap_mapping_folio</c>, one
    /// <see cref="FlushTlbMmRange"/> of its pages to the VMM's cpumask; then each folio leaves the
    /// cache, <c>free_folio</c> runs, the frames are freed), invalidate_end.
    /// </summary>
    public int GmemPunchHole(int cpu, KernelFile file, long start, long pages)
    {
        ArgumentNullException.ThrowIfNull(file);
        Enter(cpu);
        Trace(cpu, SimEventKind.PunchHole, start, pages);
        ref long clock = ref Clock(cpu);
        clock = file.InvalidateLock.WriteGrant(clock);
        FlushZapBatchesBeforeFree(cpu, file);
        KvmFlushRemoteTlbs(cpu, file.Process);
        UnmapUserFolios(cpu, file, start, pages);
        int removed = PageCache.TruncateRange(file.Mapping, start, start + pages, new FolioRelease(this, cpu, file));
        file.InvalidateLock.WriteRelease(Clock(cpu));

        return removed;
    }

    /// <summary><c>unmap_mapping_folio</c> of every folio of [start, start + pages) the VMM mapped
    /// (mm/truncate.c <c>truncate_cleanup_folio</c>): its user PTEs are zapped, one
    /// <c>flush_tlb_mm_range</c> per folio (<c>zap_page_range_single</c>'s mmu_gather).</summary>
    private void UnmapUserFolios(int cpu, KernelFile file, long start, long pages)
    {
        long step = 1L << file.FolioOrder;
        long end = Math.Min(start + pages, file.SizePages);
        for (long index = start & ~(step - 1); index < end; index += step)
        {
            if (PageCache.TryLookup(file.Mapping, index, out Folio folio) && (Frames[folio.Pfn].Flags & FrameFlags.UserMapped) != 0)
            {
                Frames[folio.Pfn].Flags &= ~FrameFlags.UserMapped;
                Charge(cpu, folio.Pages * (Costs.PageWalkNs + Costs.PteWriteNs));
                FlushTlbMmRange(cpu, file.Process, folio.Pages);
            }
        }
    }

    /// <summary>The VM is destroyed and its guest_memfd closed: every folio leaves, the id is released.</summary>
    public int GmemRelease(int cpu, KernelFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        FlushZapBatchesBeforeFree(cpu, file);
        return EvictInode(cpu, file);
    }

    /// <summary>
    /// <c>kvm_gmem_free_folio()</c> and its relatives, per strategy: v9–v11 restore (if the folio's
    /// bit is set) then <c>kvm_arch_gmem_invalidate</c>; v12 invalidate then restore; filemap restores
    /// in <c>filemap_remove_folio</c>; ALLOC_UNMAPPED keeps the pages unmapped (they return to the
    /// unmapped free lists). Every design first flushes the mermap if a slot still maps the folio.
    /// </summary>
    private void GmemFreeFolio(int cpu, KernelFile file, Folio folio, bool restore)
    {
        // Whatever the design, a folio that a mermap slot mapped (write() via the mermap, zeroing
        // under ALLOC_UNMAPPED) is flushed out of the mermap before it is freed.
        FlushMermapBeforeFree(cpu, file, folio.Pfn, folio.Order);
        RestorePoint restorePoint = file.Design.Restore;
        if (restorePoint is not (RestorePoint.FreeFolio or RestorePoint.PageCacheRemoval))
        {
            return;
        }

        ref Frame head = ref Frames[folio.Pfn];
        bool zapped = restorePoint == RestorePoint.PageCacheRemoval || (head.Flags & FrameFlags.NoDirectMap) != 0;
        if (!zapped || !restore)
        {
            return;
        }

        if (RestoreFolio(cpu, folio.Pfn, folio.Pages) != 0)
        {
            // The restore failed half-way: the folio's direct-map state is unknown, leak it.
            LeakFolio(folio.Pfn, folio.Order);
            return;
        }

        head.Flags &= ~FrameFlags.NoDirectMap;
    }
}
