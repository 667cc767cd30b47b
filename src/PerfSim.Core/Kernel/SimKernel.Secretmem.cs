using PerfSim.Core.Invariants;
using PerfSim.Core.PageCache;
using PerfSim.Core.PageTables;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Kernel;

/// <summary>memfd_secret(2), mm/secretmem.c, as in the 2026 mm tree.</summary>
public sealed partial class SimKernel
{
    /// <summary><c>memfd_secret()</c> + <c>ftruncate()</c>: -ENOSYS when
    /// <c>can_set_direct_map()</c> is false; -ENFILE when no mapping id is left.</summary>
    public int SecretmemCreate(KernelProcess process, long sizePages, out KernelFile? file)
    {
        ArgumentNullException.ThrowIfNull(process);
        file = null;
        if (!DirectMap.Profile.CanSetDirectMap)
        {
            return Errno.ENOSYS;
        }

        var probe = new KernelFile(FileKind.Secretmem, 0, sizePages, GmemFlags.None, 0, process, Designs.Secretmem);
        if (!PageCache.TryCreateMapping(probe.AddressSpaceFlags, sizePages, out ushort mapping))
        {
            return Errno.ENFILE;
        }

        file = new KernelFile(FileKind.Secretmem, mapping, sizePages, GmemFlags.None, 0, process, Designs.Secretmem) { InvalidateLock = new SimRwLock(CpuCount) };
        RegisterFile(file);
        return 0;
    }

    /// <summary>
    /// <c>secretmem_fault()</c> (§3.2): under <c>filemap_invalidate_lock_shared</c>, look up; on a
    /// miss allocate a zeroed page (zeroed through the direct map), <c>set_direct_map_invalid_noflush</c>
    /// (may split), mark uptodate, <c>filemap_add_folio</c>; on -EEXIST restore without a flush, free
    /// and retry; then <c>flush_tlb_kernel_range</c> over the one page.
    /// </summary>
    public PathResult SecretmemFault(int cpu, KernelFile file, long pgoff)
    {
        ArgumentNullException.ThrowIfNull(file);
        Enter(cpu);
        ref long clock = ref Clock(cpu);
        long start = clock;
        Charge(cpu, Costs.UserFaultBaseNs);
        if ((ulong)pgoff >= (ulong)file.SizePages)
        {
            return new PathResult(Errno.EINVAL, -1, clock - start);
        }

        clock = file.InvalidateLock.ReadGrant(clock);
        PathResult result = SecretmemFaultLocked(cpu, file, pgoff);
        file.InvalidateLock.ReadRelease(cpu, Clock(cpu));
        CountersOf(cpu).UserFaults++;
        return result with { LatencyNs = Clock(cpu) - start };
    }

    private PathResult SecretmemFaultLocked(int cpu, KernelFile file, long pgoff)
    {
        while (true)
        {
            if (PageCache.TryLookup(file.Mapping, pgoff, out Folio found))
            {
                return new PathResult(0, found.Pfn, 0);
            }

            if (!TryAllocateFolio(cpu, file, out long pfn))
            {
                return new PathResult(Errno.ENOMEM, -1, 0);
            }


            // folio_alloc(gfp | __GFP_ZERO): zeroed through the direct map, before the zap.
            ZeroFolio(cpu, file, pfn, KernelPath.ClearHighpage);
            int error = SetPageValid(cpu, pfn, valid: false);
            if (error != 0)
            {
                PutFolio(cpu, pfn, 0);
                return new PathResult(error, -1, 0);
            }

            long zappedAt = Clock(cpu);
            if ((Options.Bugs & KernelBugs.ZeroAfterZap) != 0)
            {
                AccessDirectMap(cpu, pfn, 1, KernelPath.ClearHighpage);
            }

            if (InsertFolio(cpu, file, pgoff, pfn) == AddResult.Exists)
            {
                // "cannot fail": the split already happened. No flush: non-present → present.
                SetPageValid(cpu, pfn, valid: true);
                PutFolio(cpu, pfn, 0);
                CountersOf(cpu).EexistRetries++;
                CountersOf(cpu).EexistRestores++;
                continue;
            }

            FlushRange(cpu, pfn, 1, zappedAt);
            VerifyZapFlushed(cpu, pfn, 1);
            return new PathResult(0, pfn, 0);
        }
    }

    /// <summary>
    /// Last close and munmap: the inode is evicted and every folio leaves the page cache;
    /// <c>secretmem_free_folio()</c> restores the direct map (no flush), then zeroes the folio through
    /// it (<c>folio_zero_segment</c>), and the page cache's reference is dropped (§3.3).
    /// </summary>
    public int SecretmemRelease(int cpu, KernelFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return EvictInode(cpu, file);
    }

    /// <summary>Inode eviction (last close and munmap): under the invalidate lock every folio leaves
    /// the page cache with its <c>free_folio</c>, and the mapping id is released.</summary>
    private int EvictInode(int cpu, KernelFile file)
    {
        Enter(cpu);
        int removed = PageCache.TeardownMapping(file.Mapping, new FolioRelease(this, cpu, file));
        file.Released = true;
        return removed;
    }

    /// <summary>The <c>free_folio</c> and reference drop of a file's folios, per strategy.</summary>
    private sealed class FolioRelease(SimKernel kernel, int cpu, KernelFile file) : ITruncateCallbacks
    {
        public void FreeFolio(Folio folio) => kernel.FreeFolioCallback(cpu, file, folio);

        public void PutFolio(Folio folio) => kernel.PutFolio(cpu, folio.Pfn, folio.Order);
    }

    private void FreeFolioCallback(int cpu, KernelFile file, Folio folio)
    {
        bool restore = (Options.Bugs & KernelBugs.SkipRestore) == 0;
        if (file.Kind == FileKind.Secretmem)
        {
            if (restore && SetPageValid(cpu, folio.Pfn, valid: true) != 0)
            {
                LeakFolio(folio.Pfn, folio.Order);
                return;
            }

            AccessDirectMap(cpu, folio.Pfn, folio.Pages, KernelPath.FolioZeroSegment);
            Charge(cpu, folio.Pages * Costs.Zero4KNs);
            return;
        }

        GmemFreeFolio(cpu, file, folio, restore);
    }
}
