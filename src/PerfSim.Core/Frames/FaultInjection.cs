namespace PerfSim.Core.Frames;

/// <summary>
/// Wraps a page-table allocator so that tests and scripts can force the next allocations to
/// fail, to exercise the kernel's -ENOMEM path of a split (no rollback of pages already changed).
/// </summary>
public sealed class FaultInjectingPageTableAllocator : IPageTableAllocator
{
    private readonly IPageTableAllocator _inner;

    public FaultInjectingPageTableAllocator(IPageTableAllocator inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <summary>How many of the next allocations will fail.</summary>
    public int FailuresPending { get; private set; }

    /// <summary>Allocations that were made to fail.</summary>
    public long InjectedFailures { get; private set; }

    /// <summary>Makes the next <paramref name="count"/> allocations fail.</summary>
    public void FailNext(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        FailuresPending = count;
    }

    public bool TryAllocatePageTable(int cpu, out long pfn)
    {
        if (FailuresPending > 0)
        {
            FailuresPending--;
            InjectedFailures++;
            pfn = -1;
            return false;
        }

        return _inner.TryAllocatePageTable(cpu, out pfn);
    }
}

/// <summary>
/// The simplest real page-table source: takes free frames from the top of RAM downwards and
/// marks them <see cref="FrameOwner.PageTable"/>. Used where no full page allocator is running
/// (unit tests of the direct map).
/// </summary>
public sealed class TopDownPageTableAllocator : IPageTableAllocator
{
    private readonly FrameTable _frames;
    private long _next;

    public TopDownPageTableAllocator(FrameTable frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        _frames = frames;
        _next = frames.EndPfn - 1;
    }

    public long Allocated { get; private set; }

    public bool TryAllocatePageTable(int cpu, out long pfn)
    {
        for (; _next >= 0; _next--)
        {
            if (_frames.Read(_next).Owner == FrameOwner.Free)
            {
                _frames[_next].Owner = FrameOwner.PageTable;
                pfn = _next--;
                Allocated++;
                return true;
            }
        }

        pfn = -1;
        return false;
    }
}
