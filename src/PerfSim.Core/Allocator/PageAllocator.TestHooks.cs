using System.Collections;
using System.Globalization;
using PerfSim.Core.Frames;

namespace PerfSim.Core.Allocator;

/// <summary>Read-only views and the full invariant check, for tests (single-threaded, quiescent).</summary>
public sealed partial class PageAllocator
{
    /// <summary>Pages on one per-CPU list (a staged batch not included).</summary>
    internal int TestHookPcpCount(int cpu, ZoneType zone, FreeType bank)
    {
        Zone z = _zoneByType[(int)zone] ?? throw new ArgumentException("zone has no RAM", nameof(zone));
        return PcpList(cpu, z, bank).Count;
    }

    /// <summary>Free pages on the buddy lists of one freetype, all zones.</summary>
    internal long TestHookBuddyFreePages(FreeType type)
    {
        long pages = 0;
        foreach (Zone zone in _zonelist)
        {
            for (int order = 0; order <= MaxPageOrder; order++)
            {
                pages += (long)zone.FreeArea(order, type).Count << order;
            }
        }

        return pages;
    }

    /// <summary>The buddy state of <paramref name="pfn"/> as the allocator reads it (<c>page_is_buddy</c>
    /// and <c>buddy_order</c>): the order of the free block headed there, or -1.</summary>
    internal int TestHookBuddyOrder(long pfn) => BuddyOrderAt(pfn);

    /// <summary>
    /// Checks every structural invariant and returns the first violation, or null:
    /// every free frame is on exactly one list (buddy or per-CPU) and every listed frame is free;
    /// buddy blocks are aligned to their order, inside their zone and sit on the list of their
    /// pageblocks' freetype (the freetype is not stored: this is the 6.10 rule the allocator
    /// relies on); no two free buddies of the same order and direct-map state are left unmerged;
    /// per-CPU pages sit in the bank of their pageblock's mapped/unmapped state; list counts and
    /// zone free counts are exact; and the buddy state kept in the frames decodes, at every pfn, to
    /// exactly the blocks the lists hold (head mark and order), with no other frame of a block
    /// holding a link or a mark.
    /// </summary>
    internal string? TestHookFindInvariantViolation()
    {
        var listed = new BitArray(checked((int)_frames.EndPfn));
        // The reference: per pfn, the order of the buddy block the lists say starts there, or -1.
        sbyte[] listedOrder = new sbyte[_frames.EndPfn];
        Array.Fill(listedOrder, (sbyte)-1);
        foreach (Zone zone in _zonelist)
        {
            long buddyPages = 0;
            for (int order = 0; order <= MaxPageOrder; order++)
            {
                for (int t = 0; t < FreeTypes.Count; t++)
                {
                    var type = (FreeType)t;
                    ref FreeList list = ref zone.FreeArea(order, type);
                    string? error = WalkList(ref list, listed, Describe(zone, order, type), (pfn, where) => CheckBuddyHead(zone, pfn, order, type, where), order, listedOrder);
                    if (error is not null)
                    {
                        return error;
                    }

                    buddyPages += (long)list.Count << order;
                }
            }

            if (buddyPages != zone.FreeBuddyPages)
            {
                return Invariant($"{zone.Type}: FreeBuddyPages {zone.FreeBuddyPages} but lists hold {buddyPages}");
            }

            for (int cpu = 0; cpu < _cpuCount; cpu++)
            {
                if (!HasPcpLists(cpu))
                {
                    continue; // never used: empty lists, and walking them would allocate them
                }

                // The banks, then (first zone only) the staged batch, which holds pages of its bank.
                for (int t = 0; t <= FreeTypes.Count; t++)
                {
                    bool staged = t == FreeTypes.Count;
                    if (staged && zone != _zonelist[0])
                    {
                        continue;
                    }

                    FreeType bank = staged ? StagedType : (FreeType)t;
                    ref FreeList list = ref staged ? ref StagedBatch(cpu) : ref PcpList(cpu, zone, bank);
                    string? error = WalkList(ref list, listed, Invariant($"pcp cpu {cpu} {zone.Type} {bank}{(staged ? " staged" : "")}"), (pfn, where) =>
                    {
                        if (!zone.Contains(pfn) || _frames.Read(pfn).IsBuddyHead)
                        {
                            return Invariant($"{where}: pfn {pfn} outside the zone or marked as a buddy head");
                        }

                        bool unmapped = IsPageblockUnmapped(pfn);
                        return unmapped != (bank == FreeType.UnmappedUnmovable) ? Invariant($"{where}: pfn {pfn} in the wrong bank (pageblock unmapped = {unmapped})") : null;
                    }, -1, listedOrder);
                    if (error is not null)
                    {
                        return error;
                    }
                }
            }
        }

        for (long pfn = 0; pfn < _frames.EndPfn; pfn++)
        {
            Frame frame = _frames.Read(pfn);
            if ((frame.Owner == FrameOwner.Free) != listed[(int)pfn])
            {
                return Invariant($"pfn {pfn} is {frame.Owner} but {(listed[(int)pfn] ? "is" : "is not")} on a free list");
            }

            int decoded = BuddyOrderAt(pfn);
            if (decoded != listedOrder[pfn])
            {
                return Invariant($"pfn {pfn} reads as a buddy head of order {decoded}, the lists say {listedOrder[pfn]}");
            }

            if (listedOrder[pfn] >= 0)
            {
                string? error = CheckBlockFrames(pfn, listedOrder[pfn]);
                if (error is not null)
                {
                    return error;
                }
            }
            else if (frame.BuddyOrderMark != 0 && (pfn == 0 || listedOrder[pfn - 1] != frame.BuddyOrderMark))
            {
                return Invariant($"pfn {pfn} holds order mark {frame.BuddyOrderMark} but is not the second frame of a listed block of that order");
            }
        }

        return null;
    }

    /// <summary>The frames of a listed block after its head: the second holds the order (no
    /// links), every other is a bare free frame (no links, no mark, no head bit).</summary>
    private string? CheckBlockFrames(long head, int order)
    {
        for (long p = head + 1; p < head + (1L << order); p++)
        {
            Frame f = _frames.Read(p);
            int mark = p == head + 1 ? order : 0;
            if (f.IsBuddyHead || f.BuddyOrderMark != mark || f.FreeNext != 0 || (mark == 0 && f.FreePrev != 0))
            {
                return Invariant($"block {head} order {order}: frame {p} holds links or buddy state (head {f.IsBuddyHead}, mark {f.BuddyOrderMark}, next {f.FreeNext})");
            }
        }

        return null;
    }

    /// <summary>Walks one list; <paramref name="order"/> is the buddy order of its blocks (recorded
    /// in <paramref name="listedOrder"/>), or -1 for a per-CPU list of single pages.</summary>
    private string? WalkList(ref FreeList list, BitArray listed, string where, Func<long, string, string?> checkHead, int order, sbyte[] listedOrder)
    {
        int count = 0;
        uint previous = 0;
        for (uint link = list.First; link != 0; link = _frames.Read(link - 1L).FreeNext)
        {
            long head = link - 1L;
            Frame frame = _frames.Read(head);
            if (frame.Owner != FrameOwner.Free)
            {
                return Invariant($"{where}: pfn {head} is on a free list but {frame.Owner}");
            }

            if (frame.FreePrev != previous)
            {
                return Invariant($"{where}: broken back link at pfn {head}");
            }

            if (++count > list.Count)
            {
                return Invariant($"{where}: more entries than its count {list.Count} (cycle?)");
            }

            string? error = checkHead(head, where);
            if (error is not null)
            {
                return error;
            }

            if (order >= 0)
            {
                listedOrder[head] = (sbyte)order;
            }

            long pages = order < 0 ? 1 : 1L << order;
            for (long p = head; p < head + pages; p++)
            {
                if (listed[(int)p])
                {
                    return Invariant($"{where}: pfn {p} is on two free lists");
                }

                listed[(int)p] = true;
            }

            previous = link;
        }

        if (count != list.Count || list.Last != previous)
        {
            return Invariant($"{where}: count {list.Count} but {count} entries, or a wrong tail");
        }

        return null;
    }

    private string? CheckBuddyHead(Zone zone, long pfn, int order, FreeType type, string where)
    {
        long pages = 1L << order;
        if ((pfn & (pages - 1)) != 0 || !zone.Contains(pfn) || !zone.Contains(pfn + pages - 1))
        {
            return Invariant($"{where}: block {pfn} misaligned or outside the zone");
        }

        if (BuddyOrderAt(pfn) != order)
        {
            return Invariant($"{where}: block {pfn} reads as buddy order {BuddyOrderAt(pfn)}");
        }

        // The freetype is not stored: it is the pageblock's (the 6.10 freelist hygiene rule,
        // PageAllocator.Buddy.cs), so a block on another type's list is a broken invariant.
        for (long p = pfn; p < pfn + pages; p += PageblockPages)
        {
            if (FreeTypeOfPageblock(p) != type)
            {
                return Invariant($"{where}: block {pfn} lies in a pageblock of type {FreeTypeOfPageblock(p)}");
            }
        }

        if (order < MaxPageOrder && IsFreeBuddyLocked(zone, pfn ^ pages, order, out FreeType buddyType)
            && (buddyType == FreeType.UnmappedUnmovable) == (type == FreeType.UnmappedUnmovable))
        {
            return Invariant($"{where}: block {pfn} and its buddy {pfn ^ pages} are both free and unmerged");
        }

        return null;
    }

    private static string Describe(Zone zone, int order, FreeType type) => Invariant($"{zone.Type} order {order} {type}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
