using System.Runtime.InteropServices;
using PerfSim.Core.Memory;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Flush;

/// <summary>A range of direct-map pages to flush. <see cref="ZappedAtNs"/> is the simulated time
/// at which the pages were made non-present (the start of their exposure window), or
/// <see cref="FlushEngine.NotZapped"/> when the flush is not closing a zap (no exposure is
/// recorded, the range is still invalidated).</summary>
public readonly record struct PfnRange(long StartPfn, long Pages, long ZappedAtNs = FlushEngine.NotZapped)
{
    public long EndPfn => StartPfn + Pages;
}

/// <summary>What one simulated flush cost and did.</summary>
/// <param name="InitiatorLatencyNs">Simulated ns the initiating CPU spends in the flush call: its
/// local part on x86 with IPIs (the wait for the targets is the call queue's,
/// <see cref="Timeline.HostCpus"/>), or everything, TLBSYNC / DSB completion included.</param>
/// <param name="FullFlush">The flush became (or was) a full flush on every CPU it reached.</param>
/// <param name="IpiCallbacks">Cross-CPU callbacks queued (x86 without INVLPGB: one on every other
/// online CPU; else 0). Whether each needs an IPI is the call queue's to say.</param>
/// <param name="InvalidationOps">Invalidation instructions executed: INVLPGs over all CPUs (x86
/// IPI), INVLPGB instructions (x86 INVLPGB), or broadcast TLBIs issued (arm64).</param>
/// <param name="Targets">CPUs other than the initiator whose TLBs the flush reached.</param>
/// <param name="CallbackNs">Each target's callback (its invalidations), x86 IPI only; the call
/// queue adds the interrupt's fixed handler cost.</param>
/// <param name="Stale">Stale-holder tally of the zapped ranges (empty when nothing was zapped).</param>
/// <param name="CallAtNs">When the callbacks are queued, after the call starts (x86 IPI only).</param>
/// <param name="ChannelNs">How long the broadcast occupies the shared invalidation channel (arm64,
/// INVLPGB), part of <paramref name="InitiatorLatencyNs"/>.</param>
public readonly record struct FlushOutcome(
    long InitiatorLatencyNs, bool FullFlush, int IpiCallbacks, long InvalidationOps, int Targets,
    long CallbackNs, StaleTally Stale, long CallAtNs = 0, long ChannelNs = 0);

/// <summary>Flush counters of one initiating CPU (a snapshot). Mirrors the kernel's
/// NR_TLB_REMOTE_FLUSH / NR_TLB_LOCAL_FLUSH_* vm events, split by primitive;
/// <c>MmRangeFlushes</c>: <c>flush_tlb_mm_range</c> calls (user PTEs of one mm).</summary>
public readonly record struct FlushCounters(
    long KernelRangeFlushes, long FlushAlls, long LocalFlushes, long FullFlushes, long IpiCallbacks,
    long Invlpg, long TlbiOps, long InvlpgbOps, long Tlbsyncs, long MmRangeFlushes = 0)
{
    public static FlushCounters operator +(FlushCounters a, FlushCounters b) => new(
        a.KernelRangeFlushes + b.KernelRangeFlushes, a.FlushAlls + b.FlushAlls, a.LocalFlushes + b.LocalFlushes,
        a.FullFlushes + b.FullFlushes, a.IpiCallbacks + b.IpiCallbacks, a.Invlpg + b.Invlpg, a.TlbiOps + b.TlbiOps,
        a.InvlpgbOps + b.InvlpgbOps, a.Tlbsyncs + b.Tlbsyncs, a.MmRangeFlushes + b.MmRangeFlushes);

    public static FlushCounters Add(FlushCounters left, FlushCounters right) => left + right;
}

/// <summary>Stale-translation exposure closed by one initiator's flushes (a snapshot). For every
/// zapped page: its window (zap → flush complete on every CPU, simulated ns) and how many CPUs held a
/// valid translation of it when the flush ran.</summary>
public readonly record struct StaleExposure(
    long ZappedPages, long PagesWithHolders, long HolderPairs, int MaxHolders, long WindowSumNs, long WindowMaxNs)
{
    /// <summary>Mean exposure window per zapped page, ns.</summary>
    public double MeanWindowNs => ZappedPages == 0 ? 0 : (double)WindowSumNs / ZappedPages;

    public static StaleExposure operator +(StaleExposure a, StaleExposure b) => new(
        a.ZappedPages + b.ZappedPages, a.PagesWithHolders + b.PagesWithHolders, a.HolderPairs + b.HolderPairs,
        Math.Max(a.MaxHolders, b.MaxHolders), a.WindowSumNs + b.WindowSumNs, Math.Max(a.WindowMaxNs, b.WindowMaxNs));

    public static StaleExposure Add(StaleExposure left, StaleExposure right) => left + right;
}

/// <summary>Per-initiator flush state: counters and exposure. Two
/// 128-byte lines per CPU (no sharing between host threads).</summary>
[StructLayout(LayoutKind.Sequential, Size = 2 * NativeArena.CacheLine)]
internal struct FlushCpuState
{
    public long KernelRangeFlushes;
    public long FlushAlls;
    public long LocalFlushes;
    public long FullFlushes;
    public long IpiCallbacks;
    public long Invlpg;
    public long TlbiOps;
    public long InvlpgbOps;
    public long Tlbsyncs;
    public long MmRangeFlushes;

    public long ZappedPages;
    public long PagesWithHolders;
    public long HolderPairs;
    public long MaxHolders;
    public long WindowSumNs;
    public long WindowMaxNs;
}
