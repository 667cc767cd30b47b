using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace PerfSim.Core.Allocator;

/// <summary>
/// An intrusive doubly linked list of frames, or of free blocks by their head frame. Links are
/// <c>pfn + 1</c> so that the all-zero state (native memory comes zeroed) is the empty list; both
/// links live in the free frame's own record (<see cref="Frames.Frame.FreeNext"/>,
/// <see cref="Frames.Frame.FreePrev"/>).
/// </summary>
internal struct FreeList
{
    public uint First;
    public uint Last;
    public int Count;
    private readonly int _padding;
}

/// <summary>
/// One zone (<c>struct zone</c>): its span, its buddy free lists per order and freetype
/// (<c>zone-&gt;free_area[order].free_list[type]</c>) and the lock that protects them
/// (<c>zone-&gt;lock</c>).
/// </summary>
internal sealed class Zone
{
    /// <summary>Buddy pages on the free lists. Written under <see cref="Lock"/> only.</summary>
    public long FreeBuddyPages;

    private readonly FreeList[] _freeLists = new FreeList[FreeTypes.Count * PageAllocator.NrOrders];

    public Zone(ZoneType type, long startPfn, long endPfn)
    {
        Type = type;
        StartPfn = startPfn;
        EndPfn = endPfn;
    }

    public ZoneType Type { get; }

    public long StartPfn { get; }

    public long EndPfn { get; }

    public long ManagedPages { get; set; }

    public int PcpBatch { get; set; }

    public int PcpHigh { get; set; }

    /// <summary><c>zone-&gt;lock</c>: taken for refills, drains, high-order allocations and frees.</summary>
    public Lock Lock { get; } = new();

    public bool Contains(long pfn) => pfn >= StartPfn && pfn < EndPfn;

    /// <summary>DEBUG: at the start of a <c>zone-&gt;lock</c> region, the lock is held by this thread and
    /// the free count fits the zone.</summary>
    [Conditional("DEBUG")]
    public void AssertLockedInvariants()
    {
        Debug.Assert(Lock.IsHeldByCurrentThread, "zone->lock not held in a ...Locked operation");
        Debug.Assert(FreeBuddyPages >= 0 && FreeBuddyPages <= EndPfn - StartPfn, $"zone free count {FreeBuddyPages} outside [0, {EndPfn - StartPfn}]");
    }

    /// <summary>The free list of blocks of <paramref name="order"/> and <paramref name="type"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref FreeList FreeArea(int order, FreeType type) => ref _freeLists[((int)type * PageAllocator.NrOrders) + order];
}

/// <summary>Helpers for <see cref="FreeType"/>.</summary>
internal static class FreeTypes
{
    public const int Count = 3;
}
