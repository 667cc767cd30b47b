using PerfSim.Core.Costs;

namespace PerfSim.Core.Flush;

/// <summary>
/// One architecture's TLB-flush rules: when a ranged flush becomes a full flush, and what a flush
/// costs the initiator and the targets. <see cref="FlushEngine"/> does the invalidations, counters
/// and exposure; the model only prices. Models are immutable and allocate nothing.
/// </summary>
public interface IFlushModel
{
    /// <summary>A flush of <paramref name="pages"/> pages (kernel range or local) flushes everything
    /// instead. One rule for both paths, as in the kernel.</summary>
    bool IsFullFlush(long pages);

    /// <summary><c>flush_tlb_kernel_range</c> of <paramref name="ranges"/> (<paramref name="pages"/>
    /// in all), or <c>flush_tlb_all</c> when <paramref name="full"/>, reaching
    /// <paramref name="targets"/> other CPUs.</summary>
    FlushCost Broadcast(ReadOnlySpan<PfnRange> ranges, long pages, bool full, int targets, CostProfile costs);

    /// <summary>A flush of the initiator's TLB only: one range of <paramref name="pages"/> pages, or
    /// a local full flush when <paramref name="full"/>.</summary>
    FlushCost Local(long pages, bool full, CostProfile costs);

    /// <summary>Throws when a threshold is outside what the kernel allows.</summary>
    void Validate();
}

/// <summary>What a flush model charged for one flush.</summary>
/// <param name="LatencyNs">Simulated ns the initiator spends in the call, waits included.</param>
/// <param name="Ops">Invalidation instructions (see <see cref="FlushOutcome.InvalidationOps"/>).</param>
/// <param name="IpisSent">IPIs sent.</param>
/// <param name="HandlerNsPerTarget">Interrupt-handler time taken from each target.</param>
/// <param name="Invlpg">INVLPGs executed over all CPUs.</param>
/// <param name="TlbiOps">arm64 TLBI instructions issued.</param>
/// <param name="InvlpgbOps">INVLPGB instructions issued.</param>
/// <param name="Tlbsyncs">TLBSYNCs issued.</param>
public readonly record struct FlushCost(
    long LatencyNs, long Ops, int IpisSent = 0, long HandlerNsPerTarget = 0,
    long Invlpg = 0, long TlbiOps = 0, long InvlpgbOps = 0, long Tlbsyncs = 0);
