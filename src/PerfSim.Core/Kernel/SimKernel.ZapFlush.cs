using PerfSim.Core.Flush;
using PerfSim.Core.Timeline;

namespace PerfSim.Core.Kernel;

/// <summary>The per-folio designs' zap and its flush under the design's flush policy
/// (<see cref="Design.ZapFlush"/>: every zap, a batch of N zaps per CPU, or none).</summary>
public sealed partial class SimKernel
{
    /// <summary>Each CPU's zapped ranges not yet flushed (batch:N only; made when the first file
    /// with such a design is created, outside any parallel round).</summary>
    private FlushBatch[]? _zapBatches;

    /// <summary>
    /// <c>folio_zap_direct_map()</c> of a per-folio design's folio, flushed by its policy:
    /// <c>every</c> flushes the folio at once (<see cref="ZapFolio"/>); <c>batch:N</c> adds it to
    /// this CPU's batch and flushes the batch in one call at its N-th zap; <c>none</c> (v5) never
    /// flushes, so the checker reports what the zapping CPU still translates.
    /// </summary>
    internal int ZapFolioByPolicy(int cpu, KernelFile file, long pfn)
    {
        long pages = 1L << file.FolioOrder;
        ZapFlushPolicy policy = file.Design.ZapFlush;
        if (policy.Kind == ZapFlushKind.Every)
        {
            return ZapFolio(cpu, pfn, pages, flush: file.Design.Flush == FlushPolicy.PerZap);
        }

        long zappedAt = Clock(cpu);
        int error = ZapFolio(cpu, pfn, pages, flush: false);
        if (error != 0)
        {
            return error;
        }

        if (policy.Kind == ZapFlushKind.None)
        {
            VerifyZapFlushed(cpu, pfn, pages);
            return 0;
        }

        FlushBatch batch = _zapBatches![cpu];
        batch.Add(pfn, pages, zappedAt);
        if (batch.Added >= policy.BatchZaps)
        {
            FlushZapBatch(cpu, cpu);
        }

        return 0;
    }

    /// <summary>Whether <paramref name="cpu"/>'s next zap of a folio of <paramref name="file"/>
    /// ends in a full flush (shared state: the step must run alone). The same fields the zap
    /// reads: the policy, the CPU's pending batch and the architecture's ceiling.</summary>
    internal bool NextZapFlushesFully(int cpu, KernelFile file)
    {
        long pages = 1L << file.FolioOrder;
        ZapFlushPolicy policy = file.Design.ZapFlush;
        IFlushModel model = Flush.Arch.Flush;
        return policy.Kind switch
        {
            ZapFlushKind.Every => model.IsFullFlush(pages),
            ZapFlushKind.None => false,
            _ => _zapBatches![cpu].Added + 1 >= policy.BatchZaps && model.IsFullFlush(_zapBatches[cpu].TotalPages + pages),
        };
    }

    /// <summary>Flushes every CPU's pending batch, each initiated by its own CPU: the end of a
    /// phase (<see cref="EndQuanta"/>) leaves no zap unflushed.</summary>
    public void FlushZapBatches()
    {
        for (int c = 0; _zapBatches is not null && c < CpuCount; c++)
        {
            FlushZapBatch(c, c);
        }
    }

    /// <summary>Before folios leave <paramref name="file"/> (PUNCH_HOLE, release), the CPU that
    /// frees them flushes every pending batch: no folio is restored and freed with its zap still
    /// unflushed.</summary>
    private void FlushZapBatchesBeforeFree(int cpu, KernelFile file)
    {
        for (int c = 0; _zapBatches is not null && file.Design.ZapFlush.Kind == ZapFlushKind.Batch && c < CpuCount; c++)
        {
            FlushZapBatch(c, cpu);
        }
    }

    private void EnsureZapBatches(Design design)
    {
        if (design.ZapFlush.Kind == ZapFlushKind.Batch && _zapBatches is null)
        {
            _zapBatches = new FlushBatch[CpuCount];
            for (int c = 0; c < CpuCount; c++)
            {
                _zapBatches[c] = new FlushBatch(design.ZapFlush.BatchZaps);
            }
        }
    }

    /// <summary>
    /// One <c>flush_tlb_kernel_range()</c>-style call over the ranges CPU <paramref name="owner"/>
    /// zapped since its last flush, issued by <paramref name="initiator"/>: one IPI round (x86),
    /// a full flush when the pages exceed the ceiling. Each range's exposure window runs from its
    /// zap to this flush's completion. In quantum mode the other CPUs' invalidations are logged
    /// per range, as <see cref="FlushRange"/> logs its one.
    /// </summary>
    private void FlushZapBatch(int owner, int initiator)
    {
        FlushBatch batch = _zapBatches![owner];
        if (batch.Count == 0)
        {
            return;
        }

        if (Flush.Arch.Flush.IsFullFlush(batch.TotalPages))
        {
            RequireSerial("a full TLB flush");
        }

        ReadOnlySpan<PfnRange> ranges = batch.Ranges;
        Span<bool> held = stackalloc bool[ZapFlushPolicy.MaxBatch]; // a batch holds at most N ≤ MaxBatch ranges
        for (int i = 0; i < ranges.Length; i++)
        {
            held[i] = HoldsAny(initiator, ranges[i]);
        }

        ref long clock = ref Clock(initiator);
        FlushOutcome o = Flush.FlushKernelRanges(initiator, ranges, clock);
        if (_logs is { } logs && !o.FullFlush)
        {
            for (int i = 0; i < ranges.Length; i++)
            {
                logs[initiator].AddInvalidation(new RemoteInvalidation(ranges[i].StartPfn, ranges[i].Pages, held[i] ? 2 : 1));
            }
        }

        o = CrossCall(initiator, o);
        clock += o.InitiatorLatencyNs;
        Trace(initiator, Events.SimEventKind.FlushKernelRange, ranges[0].StartPfn, o.FullFlush ? 0 : batch.TotalPages);
        foreach (PfnRange r in ranges)
        {
            VerifyZapFlushed(owner, r.StartPfn, r.Pages);
        }

        batch.Clear();
    }

    private bool HoldsAny(int cpu, PfnRange range)
    {
        for (long p = range.StartPfn; p < range.EndPfn; p++)
        {
            if (Tlb.Holds(cpu, p))
            {
                return true;
            }
        }

        return false;
    }
}
