using PerfSim.Core.Allocator;
using PerfSim.Core.Frames;

namespace PerfSim.Core.Tests.Allocator;

/// <summary>Per-CPU list batches drawn ahead between quanta (<see cref="PageAllocator.RequestStagedBatch"/>):
/// the pages are the ones a refill would have taken, and taking them touches no zone state.</summary>
public sealed class StagedBatchTests
{
    [Fact]
    public void A_staged_batch_holds_the_pages_a_refill_would_have_taken_and_its_refill_leaves_the_zone_alone()
    {
        using var staging = AllocatorHost.Small(cpus: 2);
        using var direct = AllocatorHost.Small(cpus: 2);
        int batch = staging.Allocator.Zones[0].PcpBatch;
        List<long> expected = Allocate(direct.Allocator, cpu: 0, 2 * batch);

        // The first refill comes from the zone; the next batch is drawn while the list still has pages.
        List<long> taken = Allocate(staging.Allocator, cpu: 0, 1);
        Stage(staging.Allocator, 0);
        staging.AssertInvariants("with a staged batch");
        long buddyBefore = BuddyFreePages(staging.Allocator);
        taken.AddRange(Allocate(staging.Allocator, cpu: 0, (2 * batch) - 1));

        Assert.Equal(expected, taken);
        Assert.Equal(buddyBefore, BuddyFreePages(staging.Allocator));
        Assert.Equal(2, staging.Allocator.PcpRefillsOf(0));
        Assert.Equal(1, staging.Allocator.ZoneRefillsOf(0));
        Assert.Equal(direct.Allocator.GetCounters().PcpRefills, staging.Allocator.GetCounters().PcpRefills);
        staging.AssertInvariants("after the staged refill");
    }

    [Fact]
    public void A_pending_batch_is_not_peeked_until_staging_finishes()
    {
        using var host = AllocatorHost.Small(cpus: 2);
        Assert.False(host.Allocator.TryPeekPcp(0, AllocFlags.None, out _));

        host.Allocator.RequestStagedBatch(0);
        Assert.False(host.Allocator.TryPeekPcp(0, AllocFlags.None, out _));
        host.Allocator.DrawStagedBatches();
        Assert.False(host.Allocator.TryPeekPcp(0, AllocFlags.None, out _)); // drawn, still pending
        host.Allocator.FinishStaging();

        Assert.True(host.Allocator.TryPeekPcp(0, AllocFlags.None, out long peeked));
        Assert.False(host.Allocator.TryPeekPcp(1, AllocFlags.None, out _)); // only the CPU asked for
        Assert.Equal([peeked], Allocate(host.Allocator, cpu: 0, 1));
        Assert.Equal(0, host.Allocator.ZoneRefillsOf(0));
    }

    [Fact]
    public void A_cpu_with_a_batch_staged_gets_no_second_one_and_a_drain_returns_it()
    {
        using var host = AllocatorHost.Small(cpus: 1);
        long free = host.Count(FrameOwner.Free);
        long buddy = BuddyFreePages(host.Allocator);
        Stage(host.Allocator, 0);
        long staged = buddy - BuddyFreePages(host.Allocator);
        Assert.Equal(host.Allocator.Zones[0].PcpBatch, staged);

        Stage(host.Allocator, 0);
        Assert.Equal(buddy - staged, BuddyFreePages(host.Allocator));
        Assert.Equal(free, host.Count(FrameOwner.Free)); // staged pages stay free frames

        host.Allocator.DrainLocalPages(0);
        Assert.Equal(buddy, BuddyFreePages(host.Allocator));
        Assert.False(host.Allocator.TryPeekPcp(0, AllocFlags.None, out _));
        host.AssertInvariants("after the drain");
    }

    private static void Stage(PageAllocator allocator, int cpu)
    {
        allocator.RequestStagedBatch(cpu);
        allocator.DrawStagedBatches();
        allocator.FinishStaging();
    }

    private static List<long> Allocate(PageAllocator allocator, int cpu, int count)
    {
        var pfns = new List<long>(count);
        for (int i = 0; i < count; i++)
        {
            Assert.True(allocator.TryAllocatePages(cpu, 0, AllocFlags.None, out long pfn));
            pfns.Add(pfn);
        }

        return pfns;
    }

    private static long BuddyFreePages(PageAllocator allocator) =>
        allocator.TestHookBuddyFreePages(FreeType.Unmovable) + allocator.TestHookBuddyFreePages(FreeType.Movable)
        + allocator.TestHookBuddyFreePages(FreeType.UnmappedUnmovable);
}
