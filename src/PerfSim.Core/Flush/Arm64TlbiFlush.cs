using PerfSim.Core.Costs;

namespace PerfSim.Core.Flush;

/// <summary>
/// arm64 broadcast TLB maintenance (arch/arm64/include/asm/tlbflush.h): DSB ISHST, TLBI VAALE1IS per
/// page or the range-op encoding of <c>__flush_tlb_range_op</c> (RVAALE1IS, FEAT_TLBIRANGE), DSB ISH,
/// ISB; <c>flush_tlb_all</c> is TLBI VMALLE1IS. Hardware broadcasts to the inner-shareable domain:
/// never IPIs, no target time.
/// </summary>
/// <remarks>
/// <para>BBML2 is not a flush model of its own: it changes how the linear map is built and split
/// (<see cref="PageTables.DirectMapMode.Arm64Bbml2"/>), not how TLBs are invalidated. What differs
/// between the arm64 parts' flushes is FEAT_TLBIRANGE, which is <see cref="HasTlbiRange"/> here; a
/// BBML2 part without it (none is known) would be this model with <c>HasTlbiRange = false</c>.</para>
/// <para><b>Full-flush threshold</b>: one rule, <see cref="IsFullFlush"/>, for kernel-range and local
/// flushes: <c>__flush_tlb_range_limit_excess(pages, PAGE_SIZE)</c> as <c>flush_tlb_kernel_range</c>
/// uses it since v6.13 (commits 7ffc13e23395, a923705c69f7): with range ops a flush of more than
/// <c>MAX_TLBI_RANGE_PAGES</c> pages is full, without them one of <c>MAX_DVM_OPS</c> pages or more.
/// In v6.12 <c>flush_tlb_kernel_range</c> had its own test, <c>end - start &gt; MAX_DVM_OPS *
/// PAGE_SIZE</c> (513 pages and up), and issued no range ops; <c>__flush_tlb_range</c> (user
/// ranges, the <c>last_level</c> TLBI choice) already had the rule above. docs/tlb-flush-costs.md
/// says why the simulator follows v6.13.</para>
/// </remarks>
public sealed record Arm64TlbiFlush : IFlushModel
{
    /// <summary><c>MAX_DVM_OPS</c> = <c>PTRS_PER_PTE</c> for a 4 KiB granule (arch/arm64/include/asm/tlbflush.h).</summary>
    public const int DefaultMaxDvmOps = 512;

    /// <summary><c>MAX_TLBI_RANGE_PAGES</c> = <c>__TLBI_RANGE_PAGES(31, 3)</c> = (31 + 1) &lt;&lt; (5 × 3 + 1).</summary>
    public const long DefaultMaxTlbiRangePages = 32L << 16;

    /// <summary>FEAT_TLBIRANGE present (<c>system_supports_tlb_range()</c>). Neoverse N1 (Armv8.2) has
    /// none; BBML2 parts are Armv8.4+ where it is mandatory.</summary>
    public required bool HasTlbiRange { get; init; }

    /// <summary>Without range ops: a flush of this many pages or more flushes everything.</summary>
    public int MaxDvmOps { get; init; } = DefaultMaxDvmOps;

    /// <summary>With range ops: a flush of more pages than this flushes everything.</summary>
    public long MaxTlbiRangePages { get; init; } = DefaultMaxTlbiRangePages;

    /// <summary><c>__flush_tlb_range_limit_excess(pages, PAGE_SIZE)</c> (v6.13).</summary>
    public bool IsFullFlush(long pages) => HasTlbiRange ? pages > MaxTlbiRangePages : pages >= MaxDvmOps;

    public FlushCost Broadcast(ReadOnlySpan<PfnRange> ranges, long pages, bool full, int targets, CostProfile costs)
    {
        ArgumentNullException.ThrowIfNull(costs);
        if (full || !HasTlbiRange)
        {
            FlushCost sequence = Local(pages, full, costs);
            return targets == 0 ? sequence : sequence with { ChannelNs = sequence.LatencyNs - costs.TlbiSyncNs };
        }

        long latency = costs.TlbiSyncNs;
        long ops = 0;
        foreach (PfnRange r in ranges)
        {
            (long rangeOps, long rangeNs) = RangeTlbis(r.Pages, costs);
            ops += rangeOps;
            latency += rangeNs;
        }

        // The TLBIs are DVM messages every other CPU must process; the final DSB ISH waits for them
        // (calibration C20: 95% of ptep_clear_flush), so broadcasts of several CPUs queue.
        return new FlushCost(latency, ops, TlbiOps: ops, ChannelNs: targets == 0 ? 0 : latency - costs.TlbiSyncNs);
    }

    /// <summary>The same sequence as a broadcast (the non-shareable TLBI and DSB are priced alike):
    /// TLBI VMALLE1 when full, else one range.</summary>
    public FlushCost Local(long pages, bool full, CostProfile costs)
    {
        ArgumentNullException.ThrowIfNull(costs);
        long latency = costs.TlbiSyncNs;
        long ops;
        if (full)
        {
            ops = 1;
            latency += costs.TlbiAllNs;
        }
        else if (HasTlbiRange)
        {
            (ops, long rangeNs) = RangeTlbis(pages, costs);
            latency += rangeNs;
        }
        else
        {
            ops = pages;
            latency += pages * costs.TlbiPageNs;
        }

        return new FlushCost(latency, ops, TlbiOps: ops);
    }

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDvmOps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTlbiRangePages, 1);
    }

    /// <summary>TLBIs issued and their ns for one range with range ops.</summary>
    private static (long Ops, long Ns) RangeTlbis(long pages, CostProfile costs)
    {
        (int rangeOps, int pageOps) = RangeOps(pages);
        return (rangeOps + pageOps, (rangeOps * costs.TlbiRangeOpNs) + (pageOps * costs.TlbiPageNs));
    }

    /// <summary>Number of range TLBIs and single-page TLBIs <c>__flush_tlb_range_op</c> issues for
    /// <paramref name="pages"/> pages with FEAT_TLBIRANGE (4K granule, no LPA2): scales from 3 down
    /// to 0, <c>__TLBI_RANGE_NUM(pages, scale) = min(pages, (31 + 1) &lt;&lt; (5 × scale + 1)) &gt;&gt;
    /// (5 × scale + 1) − 1</c>, one single op when one page is left.</summary>
    internal static (int RangeOps, int PageOps) RangeOps(long pages)
    {
        int rangeOps = 0, pageOps = 0;
        int scale = 3;
        while (pages > 0)
        {
            if (pages == 1)
            {
                pageOps++;
                pages--;
                continue;
            }

            int shift = (5 * scale) + 1;
            long num = (Math.Min(pages, 32L << shift) >> shift) - 1;
            if (num >= 0)
            {
                rangeOps++;
                pages -= (num + 1) << shift;
            }

            scale--;
        }

        return (rangeOps, pageOps);
    }
}
