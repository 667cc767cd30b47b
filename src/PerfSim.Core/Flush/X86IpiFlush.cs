using PerfSim.Core.Costs;

namespace PerfSim.Core.Flush;

/// <summary>
/// x86-64 without broadcast invalidation (arch/x86/mm/tlb.c: <c>flush_tlb_kernel_range</c>): more
/// pages than <c>tlb_single_page_flush_ceiling</c> (strictly greater) → full flush, else INVLPG per
/// page. Either way <c>on_each_cpu</c>: an IPI to every other online CPU (lazy and idle CPUs are not
/// skipped for kernel flushes), the local flush runs while the IPIs are in flight, and the initiator
/// waits for every acknowledgement. <c>flush_tlb_all</c>: <c>on_each_cpu(do_flush_tlb_all)</c>.
/// </summary>
public sealed record X86IpiFlush : IFlushModel
{
    /// <summary><c>tlb_single_page_flush_ceiling</c> default (arch/x86/mm/tlb.c, commit a5102476a24b).</summary>
    public const int DefaultSinglePageFlushCeiling = 33;

    /// <summary>Flushes of more pages than this become full flushes (strictly greater).</summary>
    public int SinglePageFlushCeiling { get; init; } = DefaultSinglePageFlushCeiling;

    public bool IsFullFlush(long pages) => pages > SinglePageFlushCeiling;

    public FlushCost Broadcast(ReadOnlySpan<PfnRange> ranges, long pages, bool full, int targets, CostProfile costs)
    {
        ArgumentNullException.ThrowIfNull(costs);
        long perCpuOps = full ? costs.FullFlushNs : pages * costs.InvlpgNs;
        long handler = costs.IpiHandlerNs + perCpuOps;
        // on_each_cpu: IPIs go out, the local flush runs while they are in flight, then the
        // initiator waits for the slowest acknowledgement (the handler includes the same
        // invalidations, so the remote path is always the longer one).
        long latency = targets == 0
            ? costs.FlushBaseNs + perCpuOps
            : costs.FlushBaseNs + costs.IpiSendNs + costs.IpiDeliveryNs + handler + ((targets - 1) * costs.AckWaitPerExtraTargetNs);
        long invlpg = full ? 0 : pages * (targets + 1);
        return new FlushCost(latency, invlpg, IpisSent: targets, HandlerNsPerTarget: targets > 0 ? handler : 0, Invlpg: invlpg);
    }

    public FlushCost Local(long pages, bool full, CostProfile costs) => LocalInvlpg(pages, full, costs);

    public void Validate() => ArgumentOutOfRangeException.ThrowIfNegative(SinglePageFlushCeiling);

    /// <summary>Every x86 local flush: INVLPG per page, or <c>__flush_tlb_all()</c> (INVPCID all /
    /// CR4.PGE toggle) when full. INVLPGB parts flush locally the same way.</summary>
    internal static FlushCost LocalInvlpg(long pages, bool full, CostProfile costs)
    {
        ArgumentNullException.ThrowIfNull(costs);
        return full
            ? new FlushCost(costs.FlushBaseNs + costs.FullFlushNs, 0)
            : new FlushCost(costs.FlushBaseNs + (pages * costs.InvlpgNs), pages, Invlpg: pages);
    }
}
