using PerfSim.Core.Frames;
using PerfSim.Core.Invariants;

namespace PerfSim.Core.Kernel;

/// <summary>How the VMM fills guest memory (virt/kvm/guest_memfd.c: kvm_gmem_populate; docs/kernel-paths.md), and the places that must
/// refuse no-direct-map folios (§3.4).</summary>
public sealed partial class SimKernel
{
    /// <summary>
    /// Populates one page of <paramref name="file"/> at <paramref name="index"/> by
    /// <paramref name="path"/>. Refusals are results, not exceptions: <c>-EPERM</c> for a second
    /// write() to a zapped per-folio folio (the "write exactly once" ABI), <c>-EOPNOTSUPP</c> for a
    /// write() through a direct map the design removed, <c>-EINVAL</c> for kvm_gmem_populate on a
    /// NO_DIRECT_MAP file (refused for TDX/SNP).
    /// </summary>
    public PathResult Populate(int cpu, KernelFile file, long index, PopulationPath path)
    {
        ArgumentNullException.ThrowIfNull(file);
        Enter(cpu);
        long start = Clock(cpu);
        PathResult r = path switch
        {
            PopulationPath.Memcpy => PopulateMemcpy(cpu, file, index),
            PopulationPath.WriteDirectMap => PopulateWriteDirectMap(cpu, file, index),
            PopulationPath.WriteMermap => PopulateWriteMermap(cpu, file, index),
            _ => PopulateGmemPopulate(cpu, file, index),
        };
        if (r.Ok)
        {
            CountersOf(cpu).PopulatedPages++;
        }

        return r with { LatencyNs = Clock(cpu) - start };
    }

    /// <summary>memcpy through the guest_memfd mmap: a userspace fault maps the page (and zaps it in
    /// the per-folio designs), then 4 KiB are copied through the user mapping.</summary>
    private PathResult PopulateMemcpy(int cpu, KernelFile file, long index)
    {
        PathResult fault = GmemUserFault(cpu, file, index);
        if (!fault.Ok)
        {
            return fault;
        }

        Charge(cpu, Costs.Copy4KNs);
        CountersOf(cpu).CopiedPages++;
        return fault;
    }

    /// <summary>write() copying through the direct map. Impossible where the design keeps no-direct-map
    /// folios out of it while cached (filemap, ALLOC_UNMAPPED); with the per-folio design the first
    /// write zaps on completion and a second write to the same folio is refused.</summary>
    private PathResult PopulateWriteDirectMap(int cpu, KernelFile file, long index)
    {
        ChargeWritePage(cpu);
        if (!file.Design.DirectMapWrite)
        {
            CountersOf(cpu).WriteRefused++;
            return new PathResult(Errno.EOPNOTSUPP, -1, 0);
        }

        int error = GetFolio(cpu, file, index, out long pfn);
        if (error != 0)
        {
            return new PathResult(error, -1, 0);
        }

        bool zapsHere = file.Design.Zap == ZapPoint.FirstMap;
        if (zapsHere && (Frames[pfn].Flags & FrameFlags.NoDirectMap) != 0)
        {
            CountersOf(cpu).WriteRefused++;
            return new PathResult(Errno.EPERM, pfn, 0); // written (and zapped) already
        }

        CopyThroughDirectMap(cpu, pfn, KernelPath.WriteDirectMap);
        if (zapsHere)
        {
            error = ZapFolioOnce(cpu, file, pfn);
        }

        return new PathResult(error, pfn, 0);
    }

    /// <summary>write() copying through a mermap slot: no direct-map access and no shootdown; a wrap
    /// of the slice costs a local flush.</summary>
    private PathResult PopulateWriteMermap(int cpu, KernelFile file, long index)
    {
        ChargeWritePage(cpu);
        int error = GetFolio(cpu, file, index, out long pfn);
        if (error != 0)
        {
            return new PathResult(error, -1, 0);
        }

        MermapCopy(cpu, file, pfn + (index & ((1L << file.FolioOrder) - 1)), 1);
        Charge(cpu, Costs.Copy4KNs);
        CountersOf(cpu).CopiedPages++;
        Frames[pfn].Flags |= FrameFlags.Uptodate;
        return new PathResult(0, pfn, 0);
    }

    /// <summary>write() of one page: the system call and one iteration of <c>generic_perform_write</c>
    /// (mm/filemap.c) around the folio lookup or insert and the <c>copy_from_user</c>, which the
    /// paths charge themselves.</summary>
    private void ChargeWritePage(int cpu) => Charge(cpu, Costs.SyscallNs + Costs.PerformWriteNs);

    /// <summary><c>kvm_gmem_populate()</c>: GUP the source, copy through the direct map (SNP's
    /// <c>kmap_local_page</c> + memcpy). Refused for NO_DIRECT_MAP (the TDX/SNP exclusion).</summary>
    private PathResult PopulateGmemPopulate(int cpu, KernelFile file, long index)
    {
        if (file.NoDirectMap)
        {
            CountersOf(cpu).PopulateRefused++;
            return new PathResult(Errno.EINVAL, -1, 0);
        }

        Charge(cpu, Costs.GupFastNs);
        int error = GetFolio(cpu, file, index, out long pfn);
        if (error != 0)
        {
            return new PathResult(error, -1, 0);
        }

        CopyThroughDirectMap(cpu, pfn, KernelPath.GmemPopulate);
        return new PathResult(0, pfn, 0);
    }

    private void CopyThroughDirectMap(int cpu, long pfn, KernelPath path)
    {
        AccessDirectMap(cpu, pfn, 1, path);
        Charge(cpu, Costs.Copy4KNs);
        CountersOf(cpu).CopiedPages++;
        Frames[pfn].Flags |= FrameFlags.Uptodate;
    }

    /// <summary>
    /// Page migration of the folio at <paramref name="index"/> (compaction, NUMA balancing):
    /// secretmem refuses (<c>secretmem_migrate_folio</c> returns -EBUSY); guest_memfd of a
    /// non-confidential VM migrates with <c>filemap_migrate_folio</c>, which allocates a new folio
    /// and copies through the direct map (<c>folio_mc_copy</c>): on a zapped folio that copy is an
    /// oops. How NO_DIRECT_MAP is meant to interact with gmem migration is unaddressed in the
    /// series (mm/migrate.c: filemap_migrate_folio; UNVERIFIED), so PerfSim runs the copy and lets the checker say
    /// what happens. The moved folio keeps its direct-map state bit; the old frames are freed.
    /// </summary>
    public PathResult MigrateFolio(int cpu, KernelFile file, long index)
    {
        ArgumentNullException.ThrowIfNull(file);
        Enter(cpu);
        long start = Clock(cpu);
        if (file.Kind == FileKind.Secretmem)
        {
            return new PathResult(Errno.EBUSY, -1, 0);
        }

        long folioIndex = index & ~((1L << file.FolioOrder) - 1);
        if (!PageCache.TryLookup(file.Mapping, folioIndex, out Core.PageCache.Folio old))
        {
            return new PathResult(Errno.EINVAL, -1, 0);
        }

        if (!TryAllocateFolio(cpu, file, out long pfn))
        {
            return new PathResult(Errno.ENOMEM, -1, 0);
        }

        // folio_mc_copy(): read the source and write the destination through the direct map.
        AccessDirectMap(cpu, old.Pfn, old.Pages, KernelPath.MigrationCopy);
        AccessDirectMap(cpu, pfn, old.Pages, KernelPath.MigrationCopy);
        Charge(cpu, old.Pages * Costs.Copy4KNs);
        FrameFlags carried = Frames[old.Pfn].Flags & (FrameFlags.Uptodate | FrameFlags.NoDirectMap | FrameFlags.Zeroed);
        PageCache.FilemapRemoveFolio(file.Mapping, folioIndex, null, out _);
        if (InsertFolio(cpu, file, folioIndex, pfn) != Core.PageCache.AddResult.Added)
        {
            throw new InvalidOperationException("the migrated index was taken while its folio was locked");
        }

        Frames[pfn].Flags |= carried;
        Frames[old.Pfn].Flags &= ~FrameFlags.NoDirectMap;
        PutFolio(cpu, old.Pfn, old.Order);
        return new PathResult(0, pfn, Clock(cpu) - start);
    }

    /// <summary>GUP (slow: <c>check_vma_flags</c>; fast: <c>gup_fast_folio_allowed</c>): -EFAULT for
    /// an AS_NO_DIRECT_MAP mapping.</summary>
    public int Gup(int cpu, KernelFile file, long index, bool fast)
    {
        ArgumentNullException.ThrowIfNull(file);
        _ = fast;
        if (file.NoDirectMap)
        {
            CountersOf(cpu).GupRefused++;
            return Errno.EFAULT;
        }

        return GetFolio(cpu, file, index, out _);
    }

    /// <summary><c>mlock_fixup()</c>: skipped (VM_LOCKED not set or counted again) for no-direct-map
    /// mappings. Returns whether the range was locked.</summary>
    public bool Mlock(int cpu, KernelFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.NoDirectMap)
        {
            CountersOf(cpu).MlockSkipped++;
            return false;
        }

        return true;
    }

    /// <summary>Whether a read fault on a hole may map the shared zero page
    /// (<c>vm_mixed_zeropage_allowed</c>): never for no-direct-map mappings, whose read faults must
    /// allocate a real folio [derived: the zero page is a kernel page reached through the direct map].</summary>
    public static bool ZeroPageAllowed(KernelFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return !file.NoDirectMap;
    }
}
