namespace PerfSim.Core.Flush;

/// <summary>
/// Accumulates direct-map ranges and flushes them once: the batched designs (per folio batch, per
/// pageblock flip, per population call) against the unbatched one-flush-per-zap designs.
/// </summary>
/// <remarks>
/// <para>Adjacent or overlapping ranges coalesce (the earliest zap time is kept, so the exposure
/// window is never understated). When <see cref="Capacity"/> distinct ranges are pending, a new
/// range is merged into the hull of the nearest one: more pages flushed, never fewer.</para>
/// <para>The flush is one <see cref="FlushEngine.FlushKernelRanges"/> call: one IPI round, TLBSYNC or
/// DSB wait, with the full-flush threshold applied to the total.</para>
/// <para>Not thread-safe: one batch per simulated CPU or per caller. The range buffer is allocated
/// once; adding and flushing allocate nothing.</para>
/// </remarks>
public sealed class FlushBatch
{
    private readonly PfnRange[] _ranges;
    private int _count;

    /// <summary>Creates a batch that holds up to <paramref name="capacity"/> distinct ranges.</summary>
    public FlushBatch(int capacity = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ranges = new PfnRange[capacity];
    }

    public int Capacity => _ranges.Length;

    /// <summary>Distinct pending ranges.</summary>
    public int Count => _count;

    /// <summary>Pending pages (after coalescing).</summary>
    public long TotalPages { get; private set; }

    /// <summary>Non-empty ranges added since the batch was last flushed or cleared (before
    /// coalescing): the zaps a flush policy counts.</summary>
    public int Added { get; private set; }

    /// <summary>The pending ranges.</summary>
    public ReadOnlySpan<PfnRange> Ranges => _ranges.AsSpan(0, _count);

    /// <summary>Adds pfns [<paramref name="startPfn"/>, +<paramref name="pages"/>), zapped at
    /// <paramref name="zappedAtNs"/> (or <see cref="FlushEngine.NotZapped"/>).</summary>
    public void Add(long startPfn, long pages, long zappedAtNs = FlushEngine.NotZapped)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startPfn);
        ArgumentOutOfRangeException.ThrowIfNegative(pages);
        if (pages == 0)
        {
            return;
        }

        Added++;
        long end = startPfn + pages;
        int nearest = -1;
        long nearestGap = long.MaxValue;
        for (int i = 0; i < _count; i++)
        {
            PfnRange r = _ranges[i];
            long gap = startPfn > r.EndPfn ? startPfn - r.EndPfn : r.StartPfn > end ? r.StartPfn - end : 0;
            if (gap == 0)
            {
                Merge(i, startPfn, end, zappedAtNs);
                return;
            }

            if (gap < nearestGap)
            {
                nearestGap = gap;
                nearest = i;
            }
        }

        if (_count < _ranges.Length)
        {
            _ranges[_count++] = new PfnRange(startPfn, pages, zappedAtNs);
            TotalPages += pages;
            return;
        }

        Merge(nearest, startPfn, end, zappedAtNs);
    }

    /// <summary>Flushes every pending range in one call and empties the batch. Returns the default
    /// outcome (nothing done) when the batch is empty.</summary>
    public FlushOutcome Flush(FlushEngine engine, int initiatorCpu, long nowNs)
    {
        ArgumentNullException.ThrowIfNull(engine);
        if (_count == 0)
        {
            return default;
        }

        FlushOutcome outcome = engine.FlushKernelRanges(initiatorCpu, Ranges, nowNs);
        Clear();
        return outcome;
    }

    /// <summary>Drops every pending range without flushing.</summary>
    public void Clear()
    {
        _count = 0;
        TotalPages = 0;
        Added = 0;
    }

    private void Merge(int i, long start, long end, long zappedAtNs)
    {
        PfnRange r = _ranges[i];
        long newStart = Math.Min(r.StartPfn, start);
        long newEnd = Math.Max(r.EndPfn, end);
        long zap = EarliestZap(r.ZappedAtNs, zappedAtNs);
        TotalPages += (newEnd - newStart) - r.Pages;
        _ranges[i] = new PfnRange(newStart, newEnd - newStart, zap);
    }

    private static long EarliestZap(long a, long b) =>
        a == FlushEngine.NotZapped ? b : b == FlushEngine.NotZapped ? a : Math.Min(a, b);
}
