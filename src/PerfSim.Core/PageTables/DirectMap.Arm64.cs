namespace PerfSim.Core.PageTables;

/// <summary>arm64 linear-map changes (arch/arm64/mm/pageattr.c, arch/arm64/mm/mmu.c).</summary>
public sealed partial class DirectMap
{
    /// <summary>4K pages in a CONT_PMD group (16 × 2 MiB = 32 MiB).</summary>
    private const long ContPmdPages = DirectMapBoot.ContEntries * PageGeometry.PagesPer2M;

    /// <summary><c>pgtable_split_lock</c> acquisitions (a mutex; BBML2 splits only).</summary>
    public long SplitLockRounds { get; private set; }

    /// <summary>
    /// <c>update_range_prot()</c>: split at the range's two boundaries (BBML2 only), then walk the
    /// range: fully covered sections change as a whole, PTEs one by one. A block only partly
    /// covered is a WARN and -EINVAL. <paramref name="flush"/>: <c>__change_memory_common()</c>
    /// flushes when it clears a bit.
    /// </summary>
    private CpaResult ChangeArm64(int cpu, long pfn, long pages, PteFlags set, PteFlags clear, bool flush)
    {
        var result = default(CpaResult);
        if (!Profile.CanSetDirectMap)
        {
            // can_set_direct_map() == false: the primitives return 0 and change nothing.
            return result;
        }

        if (pfn < 0 || pfn + pages > EndPfn)
        {
            result.Error = Errno.EINVAL;
            return result;
        }

        if (Profile.Mode == DirectMapMode.Arm64Bbml2)
        {
            int error = SplitKernelLeafMapping(cpu, pfn, pfn + pages, ref result);
            if (error != 0)
            {
                result.Error = error;
                return result;
            }
        }

        long end = pfn + pages;
        for (long p = pfn; p < end;)
        {
            DirectMapEntry entry = Lookup(p);
            if (entry.IsHole)
            {
                result.HolePages++;
                p++;
                continue;
            }

            long size = entry.Level.Pages();
            long basePfn = p & ~(size - 1);
            if (basePfn != p || basePfn + size > end)
            {
                result.Error = Errno.EINVAL;
                return result;
            }

            PteFlags updated = (entry.Flags & ~clear) | set;
            if (updated != entry.Flags)
            {
                if (entry.Level == PageLevel.Level4K)
                {
                    _pte[p] = updated;
                }
                else
                {
                    SetLargeEntry(entry.Level, p, updated);
                }

                result.EntryWrites++;
            }

            p += size;
        }

        if (flush)
        {
            _flush.FlushKernelRange(cpu, pfn, pages);
            result.RangeFlushes++;
        }

        return result;
    }

    /// <summary>
    /// <c>split_kernel_leaf_mapping(start, end)</c> with BBML2_NOABORT: under
    /// <c>pgtable_split_lock</c>, split only at the two boundaries; the inside keeps its blocks. No
    /// TLB flush: BBML2 tolerates the stale larger entry because the attributes are unchanged.
    /// </summary>
    private int SplitKernelLeafMapping(int cpu, long start, long end, ref CpaResult result)
    {
        SplitLockRounds++;
        int error = SplitAtBoundary(cpu, start, ref result);
        if (error == 0 && end < EndPfn)
        {
            error = SplitAtBoundary(cpu, end, ref result);
        }

        return error;
    }

    /// <summary>The boundary ladder, each step only when <paramref name="pfn"/> is not aligned to
    /// that size: PUD section → table of contiguous PMD sections (1 page) → break CONT_PMD →
    /// PMD section → table of contiguous PTEs (1 page) → break CONT_PTE.</summary>
    private int SplitAtBoundary(int cpu, long pfn, ref CpaResult result)
    {
        PteFlags pud = _pud[pfn >> Shift1G];
        if (pud == PteFlags.None)
        {
            return 0;
        }

        if ((pud & PteFlags.Leaf) != 0 && (pfn & (PageGeometry.PagesPer1G - 1)) != 0)
        {
            if (!_pageTables.TryAllocatePageTable(cpu, out _))
            {
                return Errno.ENOMEM;
            }

            PageTablePages++;
            InstallTable(PageLevel.Level1G, pfn & ~(PageGeometry.PagesPer1G - 1), pud | PteFlags.Cont);
            result.Splits1G++;
        }

        if ((_pud[pfn >> Shift1G] & PteFlags.Table) == 0)
        {
            return 0;
        }

        PteFlags pmd = _pmd.Read(pfn >> Shift2M);
        if ((pmd & (PteFlags.Leaf | PteFlags.Cont)) == (PteFlags.Leaf | PteFlags.Cont) && (pfn & (ContPmdPages - 1)) != 0)
        {
            BreakContGroup(_pmd.GetOrAddSpan((pfn & ~(ContPmdPages - 1)) >> Shift2M, (int)DirectMapBoot.ContEntries), ref result);
            pmd = _pmd.Read(pfn >> Shift2M);
        }

        if ((pmd & PteFlags.Leaf) != 0 && (pfn & (PageGeometry.PagesPer2M - 1)) != 0)
        {
            if (!_pageTables.TryAllocatePageTable(cpu, out _))
            {
                return Errno.ENOMEM;
            }

            PageTablePages++;
            InstallTable(PageLevel.Level2M, pfn & ~(PageGeometry.PagesPer2M - 1), pmd | PteFlags.Cont);
            result.Splits2M++;
        }

        if ((_pmd.Read(pfn >> Shift2M) & PteFlags.Table) != 0
            && (_pte[pfn] & PteFlags.Cont) != 0
            && (pfn & (DirectMapBoot.ContEntries - 1)) != 0)
        {
            BreakContGroup(_pte.Entries(pfn & ~(DirectMapBoot.ContEntries - 1), (int)DirectMapBoot.ContEntries), ref result);
        }

        return 0;
    }

    private void BreakContGroup(Span<PteFlags> group, ref CpaResult result)
    {
        foreach (ref PteFlags entry in group)
        {
            entry &= ~PteFlags.Cont;
        }

        ContBreaks++;
        result.ContBreaks++;
    }
}
