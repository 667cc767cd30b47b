using System.Diagnostics;
using System.Runtime.CompilerServices;
using PerfSim.Core.Frames;

namespace PerfSim.Core.Allocator;

/// <summary>The buddy free lists (mm/page_alloc.c). Every method named <c>…Locked</c> runs with
/// <c>zone-&gt;lock</c> held (or in the single-threaded constructor).</summary>
public sealed partial class PageAllocator
{
    /// <summary><c>__rmqueue</c>: the smallest free block of the freetype; for mapped memory, the
    /// migratetype fallback when the freetype's lists are empty. Unmapped memory never falls back
    /// here: the caller flips a pageblock instead.</summary>
    private bool RmqueueLocked(int cpu, Zone zone, int order, FreeType type, out long pfn)
    {
        zone.AssertLockedInvariants();
        if (RmqueueSmallestLocked(zone, order, type, out pfn))
        {
            return true;
        }

        if (type == FreeType.UnmappedUnmovable || !RmqueueFallbackLocked(zone, order, type, out pfn))
        {
            return false;
        }

        _counters.GetOrAdd(cpu).MigratetypeFallbacks++;
        return true;
    }

    /// <summary><c>__rmqueue_smallest</c>: the first block of the smallest order that fits, split
    /// down by <see cref="ExpandLocked"/>.</summary>
    private bool RmqueueSmallestLocked(Zone zone, int order, FreeType type, out long pfn)
    {
        for (int current = order; current <= MaxPageOrder; current++)
        {
            ref FreeList area = ref zone.FreeArea(current, type);
            if (area.First == 0)
            {
                continue;
            }

            pfn = area.First - 1L;
            DeleteFromFreeListLocked(zone, pfn, current, type);
            ExpandLocked(zone, pfn, order, current, type);
            return true;
        }

        pfn = -1;
        return false;
    }

    /// <summary><c>expand()</c>: hand out the lower part of a block of order <paramref name="high"/>
    /// and keep the upper halves free, one block per order, each put at the head of its list.</summary>
    private void ExpandLocked(Zone zone, long pfn, int low, int high, FreeType type)
    {
        while (high > low)
        {
            high--;
            AddToFreeListLocked(zone, pfn + (1L << high), high, type, toTail: false);
        }
    }

    /// <summary>
    /// The migratetype fallback: <c>__rmqueue_claim</c> then <c>__rmqueue_steal</c> (mm/page_alloc.c,
    /// 6.15). Claim: the largest free block of the other migratetype; a block of at least a
    /// pageblock is relabelled whole; a smaller one claims its pageblock when at least half of the
    /// pageblock is free (<c>try_to_claim_block</c>, with "alike pages" simplified to free pages).
    /// Steal: otherwise take the smallest block and leave the split-off remainder with the other type.
    /// </summary>
    private bool RmqueueFallbackLocked(Zone zone, int order, FreeType type, out long pfn)
    {
        FreeType other = type == FreeType.Movable ? FreeType.Unmovable : FreeType.Movable;
        for (int current = MaxPageOrder; current >= order; current--)
        {
            ref FreeList area = ref zone.FreeArea(current, other);
            if (area.First == 0)
            {
                continue;
            }

            // should_try_claim_block(): unmovable requests always try; movable ones only from
            // half a pageblock's order up.
            if (type == FreeType.Movable && current < PageblockOrder / 2)
            {
                break;
            }

            long block = area.First - 1L;
            if (current >= PageblockOrder)
            {
                DeleteFromFreeListLocked(zone, block, current, other);
                SetPageblockType(block, current, type);
                ExpandLocked(zone, block, order, current, type);
                pfn = block;
                return true;
            }

            long pageblock = block & ~(PageblockPages - 1);
            if (CountFreePagesInPageblockLocked(pageblock) >= PageblockPages / 2)
            {
                MoveFreePagesBlockLocked(zone, pageblock, type);
                return RmqueueSmallestLocked(zone, order, type, out pfn);
            }
        }

        // Steal: the smallest block of the other type, its split-off remainder staying with that type.
        return RmqueueSmallestLocked(zone, order, other, out pfn);
    }

    /// <summary>Free pages in one pageblock, by walking its free buddy heads.</summary>
    private long CountFreePagesInPageblockLocked(long pageblock)
    {
        long free = 0;
        for (long pfn = pageblock, end = PageblockEnd(pageblock); pfn < end;)
        {
            int order = BuddyOrderAt(pfn);
            if (order < 0)
            {
                pfn++;
                continue;
            }

            free += 1L << order;
            pfn += 1L << order;
        }

        return free;
    }

    /// <summary>The end of the pageblock at <paramref name="pageblock"/>, cut at the last frame: RAM
    /// may end inside a pageblock (a layout from a meminfo paste or an e820-like range list).</summary>
    private long PageblockEnd(long pageblock) => Math.Min(pageblock + PageblockPages, _frames.EndPfn);

    /// <summary><c>move_freepages_block</c>: move the free blocks of a pageblock to the lists of
    /// the new type (to the tail, as <c>move_to_free_list</c> does), then relabel the pageblock.</summary>
    private void MoveFreePagesBlockLocked(Zone zone, long pageblock, FreeType type)
    {
        zone.AssertLockedInvariants();
        FreeType from = FreeTypeOfPageblock(pageblock);
        if (from != type)
        {
            for (long pfn = pageblock, end = PageblockEnd(pageblock); pfn < end;)
            {
                int order = BuddyOrderAt(pfn);
                if (order < 0)
                {
                    pfn++;
                    continue;
                }

                MoveToFreeListLocked(zone, pfn, order, from, type);
                pfn += 1L << order;
            }
        }

        SetPageblockType(pageblock, PageblockOrder, type);
    }

    /// <summary>
    /// <c>__free_one_page</c>: merge with the free buddy of each order while there is one, then add
    /// the merged block to its list, to the tail when the next-order merge looks likely
    /// (<c>buddy_merge_likely</c>) or when <paramref name="toTail"/> (<c>FPI_TO_TAIL</c>) asks.
    /// </summary>
    /// <remarks>Two differences of type can meet here. Mapped migratetypes (only possible from
    /// pageblock order up): the buddy's pageblock takes the freed block's type, as the kernel does.
    /// Mapped versus unmapped: never merged, since the blocks differ in direct-map state.</remarks>
    private void FreeOneBlockLocked(Zone zone, long pfn, int order, FreeType type, bool toTail)
    {
        zone.AssertLockedInvariants();
        bool unmapped = type == FreeType.UnmappedUnmovable;
        while (order < MaxPageOrder)
        {
            long buddy = pfn ^ (1L << order);
            if (!IsFreeBuddyLocked(zone, buddy, order, out FreeType buddyType)
                || (buddyType == FreeType.UnmappedUnmovable) != unmapped)
            {
                break;
            }

            DeleteFromFreeListLocked(zone, buddy, order, buddyType);
            if (buddyType != type)
            {
                SetPageblockType(buddy, order, type);
            }

            pfn &= ~(1L << order);
            order++;
        }

        AddToFreeListLocked(zone, pfn, order, type, toTail || BuddyMergeLikelyLocked(zone, pfn, order, unmapped));
    }

    /// <summary><c>buddy_merge_likely</c>: is the buddy of the next-higher block free already? Then
    /// this block is likely to merge soon, so it goes to the tail and is handed out last.</summary>
    private bool BuddyMergeLikelyLocked(Zone zone, long pfn, int order, bool unmapped)
    {
        if (order >= MaxPageOrder - 1)
        {
            return false;
        }

        long higher = pfn & ~(1L << order);
        long higherBuddy = higher ^ (1L << (order + 1));
        return IsFreeBuddyLocked(zone, higherBuddy, order + 1, out FreeType type)
            && (type == FreeType.UnmappedUnmovable) == unmapped;
    }

    /// <summary><c>page_is_buddy</c>: a free block head of exactly this order in the same zone.</summary>
    private bool IsFreeBuddyLocked(Zone zone, long pfn, int order, out FreeType type)
    {
        type = default;
        if (!zone.Contains(pfn))
        {
            return false;
        }

        if (BuddyOrderAt(pfn) != order)
        {
            return false;
        }

        type = FreeTypeOfPageblock(pfn);
        return true;
    }

    // A free block sits on the list of its pageblock's type, always: since Linux 6.10 (Johannes
    // Weiner's "mm: page_alloc: freelist migratetype hygiene" series) mm/page_alloc.c warns in
    // __add_to_free_list(), move_to_free_list() and __del_page_from_free_list() when the
    // migratetype passed differs from get_pageblock_migratetype(page), and move_freepages_block()
    // moves every free block of a pageblock whose type changes. The model keeps the same rule
    // (every SetPageblockType moves, relabels only blocks off the lists, or matches a merging
    // buddy, as __free_one_page() does), so a block's freetype is read from its pageblock and
    // stored nowhere else. The asserts below are the kernel's warnings; the test hooks check it
    // for every listed block.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddToFreeListLocked(Zone zone, long pfn, int order, FreeType type, bool toTail)
    {
        Debug.Assert(FreeTypeOfPageblock(pfn) == type, "a free block added to a list other than its pageblock's");
        ref FreeList area = ref zone.FreeArea(order, type);
        if (toTail)
        {
            PushBack(ref area, pfn);
        }
        else
        {
            PushFront(ref area, pfn);
        }

        _frames[pfn].SetBuddyHead();
        if (order > 0)
        {
            _frames[pfn + 1].SetBuddyOrderMark(order);
        }

        zone.FreeBuddyPages += 1L << order;
    }

    /// <summary>Boot's free of a whole untouched chunk (<see cref="FreeBootMemoryLocked"/>): what
    /// <see cref="FreeOneBlockLocked"/> does for a movable block of the largest order to the tail
    /// (no merge at that order, <see cref="AddToFreeListLocked"/>), with the head's links and buddy
    /// mark written into the chunk's boot record (<see cref="FrameTable.BootHead"/>), which also
    /// gives the second frame its order mark, so the chunk's records stay unallocated.</summary>
    private void AddBootBlockLocked(Zone zone, long pfn)
    {
        ref FreeList area = ref zone.FreeArea(MaxPageOrder, FreeType.Movable);
        uint link = (uint)(pfn + 1);
        ref Frame head = ref _frames.BootHead(pfn);
        head.SetFreeNext(0);
        head.SetFreePrev(area.Last);
        head.SetBuddyHead();
        if (area.Last != 0)
        {
            // The tail before: another boot block's record, or a block whose chunk has records.
            _frames.BootHead(area.Last - 1L).SetFreeNext(link);
        }
        else
        {
            area.First = link;
        }

        area.Last = link;
        area.Count++;
        zone.FreeBuddyPages += 1L << MaxPageOrder;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void DeleteFromFreeListLocked(Zone zone, long pfn, int order, FreeType type)
    {
        Debug.Assert(FreeTypeOfPageblock(pfn) == type, "a free block deleted from a list other than its pageblock's");
        Unlink(ref zone.FreeArea(order, type), pfn);
        if (order > 0)
        {
            _frames[pfn + 1].Reset(FrameOwner.Free, FrameFlags.None);
        }

        zone.FreeBuddyPages -= 1L << order;
    }

    /// <summary><c>move_to_free_list</c>: to the tail of the list of <paramref name="to"/>, before
    /// the caller relabels the pageblock.</summary>
    private void MoveToFreeListLocked(Zone zone, long pfn, int order, FreeType from, FreeType to)
    {
        Debug.Assert(FreeTypeOfPageblock(pfn) == from, "a free block moved from a list other than its pageblock's");
        Unlink(ref zone.FreeArea(order, from), pfn);
        PushBack(ref zone.FreeArea(order, to), pfn);
        _frames[pfn].SetBuddyHead();
    }

    /// <summary>
    /// <c>PageBuddy</c> and <c>buddy_order</c>: the order of the free buddy block headed at
    /// <paramref name="pfn"/>, or -1 when the frame heads none (owned, on a per-CPU list, inside a
    /// block, or off every list). Kept in the free frames' records (<see cref="Frame"/>): the head's
    /// bit 63, and for order 1 or more the order in the block's second frame, which shares the
    /// head's cache line (an order-1+ block starts at an even pfn). A head at an odd pfn, or
    /// whose next frame holds no order mark, is of order 0: the next frame of an order-0 head
    /// is never a mark, since marks sit only in the second frame of a listed block of order 1+.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int BuddyOrderAt(long pfn)
    {
        if (!_frames.Read(pfn).IsBuddyHead)
        {
            return -1;
        }

        return (pfn & 1) != 0 || pfn + 1 >= _frames.EndPfn ? 0 : _frames.Read(pfn + 1).BuddyOrderMark;
    }

    // ---- Intrusive lists: both links in the free frame's record (Frame.FreeNext/FreePrev), pfn + 1. ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PushFront(ref FreeList list, long pfn)
    {
        uint link = (uint)(pfn + 1);
        ref Frame frame = ref _frames[pfn];
        frame.SetFreeNext(list.First);
        frame.SetFreePrev(0);
        if (list.First != 0)
        {
            _frames[list.First - 1L].SetFreePrev(link);
        }
        else
        {
            list.Last = link;
        }

        list.First = link;
        list.Count++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PushBack(ref FreeList list, long pfn)
    {
        uint link = (uint)(pfn + 1);
        ref Frame frame = ref _frames[pfn];
        frame.SetFreeNext(0);
        frame.SetFreePrev(list.Last);
        if (list.Last != 0)
        {
            _frames[list.Last - 1L].SetFreeNext(link);
        }
        else
        {
            list.First = link;
        }

        list.Last = link;
        list.Count++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Unlink(ref FreeList list, long pfn)
    {
        ref Frame frame = ref _frames[pfn];
        uint next = frame.FreeNext;
        uint prev = frame.FreePrev;
        if (prev != 0)
        {
            _frames[prev - 1L].SetFreeNext(next);
        }
        else
        {
            list.First = next;
        }

        if (next != 0)
        {
            _frames[next - 1L].SetFreePrev(prev);
        }
        else
        {
            list.Last = prev;
        }

        list.Count--;
        frame.Reset(FrameOwner.Free, FrameFlags.None);
    }
}
