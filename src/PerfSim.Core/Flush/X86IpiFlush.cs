using PerfSim.Core.Costs;

namespace PerfSim.Core.Flush;

/// <summary>
/// x86-64 without broadcast invalidation (arch/x86/mm/tlb.c: <c>flush_tlb_kernel_range</c>): more
/// pages than <c>tlb_single_page_flush_ceiling</c> (strictly greater) → full flush, else INVLPG per
/// page. Either way <c>on_each_cpu</c>: a callback on every other online CPU (lazy and idle CPUs are
/// not skipped for kernel flushes), the local flush runs while the IPIs are in flight, and the
/// initiator waits for every target. <c>flush_tlb_all</c>: <c>on_each_cpu(do_flush_tlb_all)</c>.
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
        // on_each_cpu: the csds are queued and the IPIs go out, the local flush runs while they are
        // in flight, then the initiator waits in csd_lock_wait for the slowest target. The model
        // prices the local part; the call queue (Timeline.HostCpus) prices the IPIs and the wait,
        // which depend on what each target is doing.
        long local = costs.FlushBaseNs + perCpuOps;
        long invlpg = full ? 0 : pages * (targets + 1);
        long nominal = targets == 0 ? 0 : costs.IpiSendNs + costs.IpiDeliveryNs + costs.IpiHandlerNs + ((targets - 1) * costs.AckWaitPerExtraTargetNs);
        return new FlushCost(local, invlpg, IpiCallbacks: targets, CallbackNs: targets > 0 ? perCpuOps : 0, Invlpg: invlpg, NominalWaitNs: nominal, CallAtNs: costs.FlushBaseNs);
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
