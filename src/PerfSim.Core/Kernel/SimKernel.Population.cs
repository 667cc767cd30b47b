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
    /// default (non-TDX/SNP) VM's file.
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

    /// <summary>
    /// <c>kvm_gmem_populate()</c> (6.18 virt/kvm/guest_memfd.c), reached only from SNP's
    /// <c>KVM_SEV_SNP_LAUNCH_UPDATE</c> and TDX's <c>KVM_TDX_INIT_MEM_REGION</c>, so a default VM's
    /// file is refused (-EINVAL). Under <c>filemap_invalidate_lock</c> held exclusively: get the
    /// folio, -EEXIST if it is already prepared (uptodate), -EINVAL unless the gfn is PRIVATE
    /// (<c>kvm_range_has_memory_attributes</c>), then <c>post_populate</c> copies the source through
    /// the direct map (SNP: <c>kmap_local_page</c> + memcpy) and marks the folio prepared. A
    /// NO_DIRECT_MAP file never gets here: TDX/SNP refuse the flag when the file is created (v12).
    /// </summary>
    private PathResult PopulateGmemPopulate(int cpu, KernelFile file, long index)
    {
        if (file.Vm == VmType.Default)
        {
            CountersOf(cpu).PopulateRefused++;
            return new PathResult(Errno.EINVAL, -1, 0);
        }

        Charge(cpu, Costs.GupFastNs);
        ref long clock = ref Clock(cpu);
        clock = file.InvalidateLock.WriteGrant(clock);
        PathResult r = PopulateGmemPopulateLocked(cpu, file, index);
        file.InvalidateLock.WriteRelease(Clock(cpu));
        return r;
    }

    private PathResult PopulateGmemPopulateLocked(int cpu, KernelFile file, long index)
    {
        int error = GetFolio(cpu, file, index, out long pfn);
        if (error != 0)
        {
            return new PathResult(error, -1, 0);
        }

        // A CoCo VM's file has no INIT_SHARED (kvm_arch_supports_gmem_init_shared is false for
        // it), and the VMM sets its range PRIVATE before launch: the attribute check passes.
        if (IsUptodate(pfn))
        {
            return new PathResult(Errno.EEXIST, pfn, 0);
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
    /// Page migration of the folio at <paramref name="index"/> (compaction, NUMA balancing) reaches
    /// the mapping's <c>migrate_folio</c>: secretmem refuses with -EBUSY
    /// (mm/secretmem.c: <c>secretmem_migrate_folio</c>), and so does guest_memfd with -EINVAL after a
    /// <c>WARN_ON_ONCE</c> (6.18 virt/kvm/guest_memfd.c: <c>kvm_gmem_migrate_folio</c>; its mappings
    /// are unmovable, so a request is a kernel bug). Nothing is copied, so the direct map is never
    /// touched.
    /// </summary>
    public PathResult MigrateFolio(int cpu, KernelFile file, long index)
    {
        ArgumentNullException.ThrowIfNull(file);
        Enter(cpu);
        if (file.Kind == FileKind.Secretmem)
        {
            return new PathResult(Errno.EBUSY, -1, 0);
        }

        return new PathResult(Errno.EINVAL, -1, 0);
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

    /// <summary>
    /// Whether a read fault on a hole may map the shared zero page. <c>vm_mixed_zeropage_allowed</c>
    /// (mm/memory.c) allows it only in COW mappings or in mappings that can never be written
    /// (no VM_WRITE, no VM_MAYWRITE). guest_memfd (<c>kvm_gmem_mmap</c>: VM_SHARED and VM_MAYSHARE
    /// required) and secretmem (<c>secretmem_mmap</c>: VM_SHARED or VM_MAYSHARE required) map only
    /// shared, from files opened O_RDWR, so VM_MAYWRITE is set: never, with or without
    /// NO_DIRECT_MAP. (Their fault handlers allocate a folio anyway.)
    /// </summary>
    public static bool ZeroPageAllowed(KernelFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return false;
    }
}
