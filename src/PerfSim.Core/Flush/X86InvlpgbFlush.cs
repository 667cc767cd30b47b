using PerfSim.Core.Costs;

namespace PerfSim.Core.Flush;

/// <summary>
/// x86-64 with AMD INVLPGB/TLBSYNC (arch/x86/mm/tlb.c: <c>invlpgb_kernel_range_flush</c>): the same
/// ceiling as <see cref="X86IpiFlush"/>; a ranged flush is INVLPGB in chunks of
/// <c>invlpgb_count_max</c> pages and one TLBSYNC, a full one <c>invlpgb_flush_all</c>; no IPIs.
/// Local flushes are the plain x86 ones.
/// </summary>
public sealed record X86InvlpgbFlush : IFlushModel
{
    /// <summary>Flushes of more pages than this become full flushes (strictly greater).</summary>
    public int SinglePageFlushCeiling { get; init; } = X86IpiFlush.DefaultSinglePageFlushCeiling;

    /// <summary>Pages per INVLPGB instruction, <c>(CPUID 0x80000008 EDX[15:0]) + 1</c>. Default 8 is
    /// UNVERIFIED (no published value was found for Milan); configurable.</summary>
    public int InvlpgbCountMax { get; init; } = 8;

    public bool IsFullFlush(long pages) => pages > SinglePageFlushCeiling;

    public FlushCost Broadcast(ReadOnlySpan<PfnRange> ranges, long pages, bool full, int targets, CostProfile costs)
    {
        ArgumentNullException.ThrowIfNull(costs);
        long ops = 1;
        if (!full)
        {
            ops = 0;
            foreach (PfnRange r in ranges)
            {
                ops += (r.Pages + InvlpgbCountMax - 1) / InvlpgbCountMax;
            }
        }

        long latency = costs.FlushBaseNs + (ops * costs.InvlpgbNs) + costs.TlbsyncNs;
        // Every CPU processes every INVLPGB; TLBSYNC waits until this CPU's have been, behind any
        // other CPU's broadcasts already in flight.
        return new FlushCost(latency, ops, InvlpgbOps: ops, Tlbsyncs: 1, ChannelNs: targets == 0 ? 0 : ops * costs.InvlpgbNs);
    }

    public FlushCost Local(long pages, bool full, CostProfile costs) => X86IpiFlush.LocalInvlpg(pages, full, costs);

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(SinglePageFlushCeiling);
        ArgumentOutOfRangeException.ThrowIfLessThan(InvlpgbCountMax, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(InvlpgbCountMax, 65536);
    }
}
