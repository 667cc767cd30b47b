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
/// <param name="IpiCallbacks">Cross-CPU callbacks queued (one per target).</param>
/// <param name="CallbackNs">Each target's callback time (its invalidations).</param>
/// <param name="Invlpg">INVLPGs executed over all CPUs.</param>
/// <param name="TlbiOps">arm64 TLBI instructions issued.</param>
/// <param name="InvlpgbOps">INVLPGB instructions issued.</param>
/// <param name="Tlbsyncs">TLBSYNCs issued.</param>
/// <param name="NominalWaitNs">x86 IPI: the initiator's wait beyond <paramref name="LatencyNs"/> when
/// every target is in the host with an empty queue (send, delivery, handler, acknowledgements). The
/// exposure window closes after it; the real wait is the call queue's.</param>
/// <param name="CallAtNs">x86 IPI: when, after the flush call starts, the csds are queued and the
/// IPIs sent (after the flush's setup).</param>
/// <param name="ChannelNs">A broadcast without IPIs (arm64 TLBI…IS, INVLPGB): how long its
/// invalidations occupy the shared broadcast channel, part of <paramref name="LatencyNs"/>; a
/// broadcast issued while another's are still in it waits (the kernel's DSB / TLBSYNC).</param>
public readonly record struct FlushCost(
    long LatencyNs, long Ops, int IpiCallbacks = 0, long CallbackNs = 0,
    long Invlpg = 0, long TlbiOps = 0, long InvlpgbOps = 0, long Tlbsyncs = 0, long NominalWaitNs = 0, long CallAtNs = 0, long ChannelNs = 0);
