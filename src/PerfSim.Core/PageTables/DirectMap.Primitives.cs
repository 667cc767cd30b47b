namespace PerfSim.Core.PageTables;

/// <summary>The three direct-map primitives (include/linux/set_memory.h), per architecture.</summary>
public sealed partial class DirectMap
{
    // x86 __set_pages_np clears PRESENT|RW|DIRTY (the mm tree; older mainline only PRESENT|RW);
    // __set_pages_p sets PRESENT|RW. Neither re-adds GLOBAL or DIRTY, so a zap/restore cycle
    // leaves the entry non-global (arch/x86/mm/pat/set_memory.c).
    private const PteFlags X86ClearOnInvalid = PteFlags.Present | PteFlags.Rw | PteFlags.Dirty;
    private const PteFlags X86SetOnValid = PteFlags.Present | PteFlags.Rw;

    private static readonly CpaResult s_oneWrite = new() { LockRounds = 1, EntryWrites = 1 };
    private static readonly CpaResult s_noWrite = new() { LockRounds = 1 };

    /// <summary><c>set_direct_map_invalid_noflush(page)</c>: one page non-present, no TLB flush
    /// (except the global flush inside an x86 split).</summary>
    public CpaResult SetInvalidNoFlush(int cpu, long pfn) => Profile.Mode switch
    {
        DirectMapMode.X86 => ChangePageAttrX86(cpu, pfn, 1, PteFlags.None, X86ClearOnInvalid),
        // arm64: update_range_prot(addr, PAGE_SIZE, 0, PTE_VALID): no flush.
        _ => ChangeArm64(cpu, pfn, 1, PteFlags.None, PteFlags.Present, flush: false),
    };

    /// <summary><c>set_direct_map_default_noflush(page)</c>: one page present and writable again.
    /// No flush is needed: a non-present entry cannot be cached.</summary>
    public CpaResult SetDefaultNoFlush(int cpu, long pfn) => Profile.Mode switch
    {
        DirectMapMode.X86 => ChangePageAttrX86(cpu, pfn, 1, X86SetOnValid, PteFlags.None),
        // arm64: update_range_prot(addr, PAGE_SIZE, PTE_VALID | PTE_WRITE, PTE_RDONLY): no flush.
        _ => ChangeArm64(cpu, pfn, 1, PteFlags.Present | PteFlags.Rw, PteFlags.None, flush: false),
    };

    /// <summary><c>set_direct_map_valid_noflush(page, nr, valid)</c>. On arm64 this is
    /// <c>set_memory_valid()</c>, whose <c>__change_memory_common()</c> flushes the range when it
    /// clears PTE_VALID: despite the name, the invalidating call flushes there.</summary>
    public CpaResult SetValidNoFlush(int cpu, long pfn, long pages, bool valid)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pages);
        // Each call in return position, so that the callee builds the result in this method's
        // return buffer: a switch expression copied it through a temporary, and that wide copy
        // of just-written fields stalled on store forwarding.
        if (Profile.Mode == DirectMapMode.X86)
        {
            if (valid)
            {
                return ChangePageAttrX86(cpu, pfn, pages, X86SetOnValid, PteFlags.None);
            }

            return ChangePageAttrX86(cpu, pfn, pages, PteFlags.None, X86ClearOnInvalid);
        }

        if (valid)
        {
            return ChangeArm64(cpu, pfn, pages, PteFlags.Present, PteFlags.None, flush: false);
        }

        return ChangeArm64(cpu, pfn, pages, PteFlags.None, PteFlags.Present, flush: true);
    }

    /// <summary>
    /// <c>__change_page_attr_set_clr()</c>: one <c>__change_page_attr()</c> round per leaf, each
    /// under <c>cpa_lock</c>; the first error ends the call with no rollback of the pages already
    /// changed (Documentation/mm/kernel-page-tables.rst: not atomic, caller must leak or panic).
    /// </summary>
    private CpaResult ChangePageAttrX86(int cpu, long pfn, long pages, PteFlags set, PteFlags clear)
    {
        if (set == PteFlags.None && clear == PteFlags.None)
        {
            return default;
        }

        // The common round (a 4K leaf) counts in locals; the rare outcomes go through `rare`. The
        // result is assembled once at the end: copying a struct whose fields were just
        // incremented one by one through a reference stalls on store forwarding.
        var rare = default(CpaResult);
        bool anyRare = false;
        int lockRounds = 0, entryWrites = 0, error = 0;
        long current = pfn;
        long remaining = pages;
        while (remaining > 0)
        {
            lockRounds++;
            long handled;
            PteFlags leaf = Leaf(current, out PageLevel level);
            if (level == PageLevel.Level4K && leaf != PteFlags.None)
            {
                PteFlags updated = ApplyProt(leaf, set, clear);
                if (updated != leaf)
                {
                    _pte[current] = updated;
                    entryWrites++;
                }

                handled = 1;
            }
            else
            {
                anyRare = true;
                handled = ChangeOneLeafX86(cpu, current, remaining, set, clear, ref rare);
                if (handled < 0)
                {
                    error = (int)handled;
                    break;
                }
            }

            remaining -= handled;
            current += handled;
        }

        if (!anyRare && lockRounds == 1)
        {
            // One 4K PTE (a zap or restore of an order-0 folio): a copy of a prebuilt result is
            // moved with wide stores, which the caller's wide copy can forward from; fields
            // stored one by one could not be, and stalled it.
            return entryWrites == 1 ? s_oneWrite : s_noWrite;
        }

        return new CpaResult
        {
            Error = error,
            LockRounds = lockRounds,
            EntryWrites = entryWrites + rare.EntryWrites,
            Splits1G = rare.Splits1G,
            Splits2M = rare.Splits2M,
            ContBreaks = rare.ContBreaks,
            SameProt = rare.SameProt,
            Preserved = rare.Preserved,
            HolePages = rare.HolePages,
            GlobalFlushes = rare.GlobalFlushes,
            RangeFlushes = rare.RangeFlushes,
        };
    }

    /// <summary>
    /// <c>__change_page_attr()</c> for the leaf that maps <paramref name="pfn"/>: returns the pages
    /// it handled (cpa->numpages) or a negative errno.
    /// </summary>
    private long ChangeOneLeafX86(int cpu, long pfn, long remaining, PteFlags set, PteFlags clear, ref CpaResult result)
    {
        while (true)
        {
            DirectMapEntry entry = Lookup(pfn);
            if (entry.IsHole)
            {
                // __cpa_process_fault(): inside [PAGE_OFFSET, max_pfn_mapped) a hole is a silent
                // success one page at a time; beyond it the call fails with -EFAULT.
                if (pfn >= EndPfn)
                {
                    return Errno.EFAULT;
                }

                result.HolePages++;
                return 1;
            }

            if (entry.Level == PageLevel.Level4K)
            {
                PteFlags updated = ApplyProt(entry.Flags, set, clear);
                if (updated != entry.Flags)
                {
                    _pte[pfn] = updated;
                    result.EntryWrites++;
                }

                return 1;
            }

            // should_split_large_page(): clip the request to this large page, keep it when the
            // protection does not change ("sameprot"), update it in place when the request covers
            // it exactly ("preserved"), otherwise split and re-walk one level down.
            long size = entry.Level.Pages();
            long basePfn = pfn & ~(size - 1);
            long clipped = Math.Min(remaining, basePfn + size - pfn);
            PteFlags requested = ApplyProt(entry.Flags, set, clear);
            if (requested == entry.Flags)
            {
                result.SameProt++;
                return clipped;
            }

            if (pfn != basePfn || clipped < size)
            {
                int error = SplitLargeX86(cpu, entry, basePfn, ref result);
                if (error != 0)
                {
                    return error;
                }

                continue;
            }

            SetLargeEntry(entry.Level, basePfn, requested);
            result.Preserved++;
            result.EntryWrites++;
            return clipped;
        }
    }

    /// <summary>
    /// <c>split_large_page()</c> + <c>__split_large_page()</c>: allocate one page-table page (with
    /// cpa_lock dropped: it may sleep), fill 512 entries one level down with the old protection
    /// (GLOBAL kept only on present entries), account the split, install the table, then
    /// <c>flush_tlb_all()</c> under pgd_lock.
    /// </summary>
    private int SplitLargeX86(int cpu, DirectMapEntry entry, long basePfn, ref CpaResult result)
    {
        if (!_pageTables.TryAllocatePageTable(cpu, out _))
        {
            return Errno.ENOMEM;
        }

        PageTablePages++;
        PteFlags child = entry.Flags;
        child = (child & PteFlags.Present) != 0 ? child | PteFlags.Global : child & ~PteFlags.Global;
        InstallTable(entry.Level, basePfn, child);
        if (entry.Level == PageLevel.Level2M)
        {
            result.Splits2M++;
        }
        else
        {
            result.Splits1G++;
        }

        _flush.FlushTlbAll(cpu);
        GlobalFlushes++;
        result.GlobalFlushes++;
        return 0;
    }

    /// <summary>Replaces the large leaf at <paramref name="basePfn"/> by a table of 512 entries one
    /// level down, each with <paramref name="child"/>, and moves one entry down a level in the
    /// counts (<c>split_page_count()</c>).</summary>
    private void InstallTable(PageLevel level, long basePfn, PteFlags child)
    {
        if (level == PageLevel.Level2M)
        {
            _pte.GetOrAdd(basePfn).Fill(child);
            _pmd.GetOrAdd(basePfn >> Shift2M) = PteFlags.Table;
            _entries2M--;
            _entries4K += PageGeometry.EntriesPerTable;
            Level2Splits++;
        }
        else
        {
            _pmd.GetOrAddSpan(basePfn >> Shift2M, PageGeometry.EntriesPerTable).Fill(child);
            _pud[basePfn >> Shift1G] = PteFlags.Table;
            _entries1G--;
            _entries2M += PageGeometry.EntriesPerTable;
            Level3Splits++;
        }
    }

    private void SetLargeEntry(PageLevel level, long basePfn, PteFlags value)
    {
        if (level == PageLevel.Level2M)
        {
            _pmd.GetOrAdd(basePfn >> Shift2M) = value;
        }
        else
        {
            _pud[basePfn >> Shift1G] = value;
        }
    }
}
