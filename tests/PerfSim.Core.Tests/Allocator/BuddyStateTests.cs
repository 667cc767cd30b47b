using PerfSim.Core.Allocator;

namespace PerfSim.Core.Tests.Allocator;

/// <summary>
/// The buddy state (<c>PageBuddy</c>, <c>buddy_order</c>) moved from a byte per frame into the free
/// frames' own records, and the freetype is read from the pageblock (issue 19 item 5). The
/// invariant check compares, at every pfn, what the allocator decodes with a plain per-pfn order
/// array built from the free lists alone (<see cref="PageAllocator.TestHookFindInvariantViolation"/>),
/// and that every listed block lies in pageblocks of its list's type.
/// </summary>
public sealed class BuddyStateTests
{
    /// <summary>Seeded random allocations (orders 0–10, mapped, movable, unmapped), frees from
    /// any CPU and drains, in phases that fill and empty memory, on a 64 MiB host small enough to check every pfn after every step; the
    /// sequence must go through claims of pageblocks (<c>move_freepages_block</c>), unmapped flips
    /// and remaps, so that every path that changes a pageblock's type is checked.</summary>
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void Random_sequences_keep_the_decoded_buddy_state_equal_to_the_lists(int seed)
    {
        using AllocatorHost host = AllocatorHost.Small(cpus: 3, pcpBatch: 7, pcpHigh: 21);
        PageAllocator allocator = host.Allocator;
        var rng = new Random(seed);
        var held = new List<(long Pfn, int Order)>();
        for (int step = 0; step < 1500; step++)
        {
            int cpu = rng.Next(3);
            int op = rng.Next(100);
            // Phases of 250 steps that fill memory and that empty it, so that zones run out of
            // mapped memory (remaps of unmapped pageblocks) and pageblocks become free whole again.
            bool filling = step / 250 % 2 == 0;
            if (op < (filling ? 80 : 20) || held.Count == 0)
            {
                (int order, AllocFlags flags) = AllocatorHost.RandomRequest(rng);
                if (allocator.TryAllocatePages(cpu, order, flags, out long pfn))
                {
                    held.Add((pfn, order));
                }
            }
            else if (op < 97)
            {
                (long pfn, int order) = AllocatorHost.TakeRandom(held, rng);
                allocator.FreePages(cpu, pfn, order);
            }
            else
            {
                allocator.DrainLocalPages(cpu);
            }

            host.AssertInvariants($"seed {seed} step {step}");
        }

        AllocatorCounters counters = allocator.GetCounters();
        Assert.True(counters.MigratetypeFallbacks > 0, "the sequence must claim or steal from the other migratetype");
        Assert.True(counters.PageblockFlips > 0 && counters.PageblockRemaps > 0, "the sequence must flip pageblocks to unmapped and back");
    }

    /// <summary>An order-0 buddy head at an even pfn whose odd neighbour is free but on a per-CPU
    /// list, alone (both links 0): the head is of order 0, the neighbour no buddy; when the
    /// neighbour is drained the two merge.</summary>
    [Fact]
    public void An_even_order_0_head_beside_a_lone_per_cpu_page_is_of_order_0()
    {
        using AllocatorHost host = AllocatorHost.Small(cpus: 2, pcpBatch: 1, pcpHigh: 100);
        PageAllocator allocator = host.Allocator;
        Assert.True(allocator.TryAllocatePages(0, 1, AllocFlags.None, out long pfn));
        allocator.FreePages(1, pfn + 1, 0); // cpu 1's list was empty: a lone page, links 0
        allocator.FreePages(0, pfn, 0);
        allocator.DrainLocalPages(0);

        Assert.Equal(0, allocator.TestHookBuddyOrder(pfn));
        Assert.Equal(-1, allocator.TestHookBuddyOrder(pfn + 1));
        Assert.Equal(1, allocator.TestHookPcpCount(1, PageAllocator.ZoneOf(pfn), FreeType.Unmovable));
        host.AssertInvariants("even order-0 head beside a per-CPU page");

        allocator.DrainLocalPages(1);
        Assert.Equal(-1, allocator.TestHookBuddyOrder(pfn + 1));
        Assert.True(allocator.TestHookBuddyOrder(pfn & ~1L) >= 1, "the two pages merged");
        host.AssertInvariants("after the merge");
    }

    /// <summary>Every order 0–10 reads back at the head, and nothing reads as a head inside or
    /// after the block; the head of a block at the last pfn of the table is of order 0.</summary>
    [Fact]
    public void Every_order_reads_back_at_its_head_only()
    {
        using AllocatorHost host = AllocatorHost.Small();
        PageAllocator allocator = host.Allocator;
        for (int order = 0; order <= PageAllocator.MaxPageOrder; order++)
        {
            // Take everything, then give back one block of this order and one page at the very end.
            var all = new List<long>();
            while (allocator.TryAllocatePages(0, 0, AllocFlags.None, out long p))
            {
                all.Add(p);
            }

            long last = host.Frames.EndPfn - 1;
            long block = 4096;
            foreach (long p in all)
            {
                if ((p >= block && p < block + (1L << order)) || p == last)
                {
                    allocator.FreePages(0, p, 0);
                }
            }

            allocator.DrainLocalPages(0);
            Assert.Equal(order, allocator.TestHookBuddyOrder(block));
            for (long p = block + 1; p < block + (1L << order) + 2; p++)
            {
                Assert.Equal(-1, allocator.TestHookBuddyOrder(p));
            }

            Assert.Equal(0, allocator.TestHookBuddyOrder(last));
            host.AssertInvariants($"order {order}");
            foreach (long p in all)
            {
                if (!((p >= block && p < block + (1L << order)) || p == last))
                {
                    allocator.FreePages(0, p, 0);
                }
            }

            allocator.DrainLocalPages(0);
            host.AssertInvariants($"order {order}, all freed");
        }
    }
}
