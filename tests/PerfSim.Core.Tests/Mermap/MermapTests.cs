using PerfSim.Core.Frames;
using PerfSim.Core.Mermap;

namespace PerfSim.Core.Tests.Mermap;

public sealed class MermapTests
{
    [Fact]
    public void Four_slots_per_cpu_then_get_fails_and_migration_stays_disabled_while_held()
    {
        using TestHost host = AllocatedHost();
        var mermap = new PerfSim.Core.Mermap.Mermap(host.Frames, cpus: 2, slicePages: 65);
        var held = new List<MermapAllocation>();
        for (int i = 0; i < Core.Mermap.Mermap.SlotsPerCpu; i++)
        {
            Assert.Equal(MermapGetResult.Ok, mermap.TryGet(0, 1000 + i, 1, out MermapAllocation a, out _));
            held.Add(a);
        }

        Assert.Equal(MermapGetResult.NoSlot, mermap.TryGet(0, 2000, 1, out _, out _));
        Assert.Equal(MermapGetResult.Ok, mermap.TryGet(1, 2000, 1, out MermapAllocation other, out _));
        Assert.True(mermap.MigrationDisabled(0));
        foreach (MermapAllocation a in held)
        {
            mermap.Put(a);
        }

        Assert.False(mermap.MigrationDisabled(0));
        Assert.True(mermap.MigrationDisabled(1));
        mermap.Put(other);
        Assert.Equal((4L, 1L), (mermap.Gets(0), mermap.Failures(0)));
    }

    [Fact]
    public void Bump_allocation_wraps_with_one_local_flush_and_put_never_flushes()
    {
        using TestHost host = AllocatedHost();
        var mermap = new PerfSim.Core.Mermap.Mermap(host.Frames, cpus: 1, slicePages: 17);

        // 16 usable pages: four 4-page gets fill the slice exactly, without a flush.
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(MermapGetResult.Ok, mermap.TryGet(0, 100 + (4 * i), 4, out MermapAllocation a, out bool flushed));
            Assert.False(flushed);
            Assert.Equal(4L * i, a.FirstPage);
            mermap.Put(a);
        }

        Assert.Equal(0, mermap.LocalFlushes(0));
        Assert.Equal(MermapGetResult.Ok, mermap.TryGet(0, 200, 4, out MermapAllocation wrapped, out bool flushedNow));

        Assert.True(flushedNow);
        Assert.Equal((0L, 1L), (wrapped.FirstPage, mermap.LocalFlushes(0)));
    }

    [Fact]
    public void A_wrap_restarts_above_the_highest_held_slot_or_fails()
    {
        using TestHost host = AllocatedHost();
        var mermap = new PerfSim.Core.Mermap.Mermap(host.Frames, cpus: 1, slicePages: 17);
        mermap.TryGet(0, 100, 6, out MermapAllocation first, out _);
        mermap.TryGet(0, 200, 6, out MermapAllocation held, out _);
        mermap.Put(first);

        // 12 of 16 pages used up to the bump pointer; 6 more do not fit above it; the lowest
        // address above the held slot is 12: 4 pages fit there after a flush, 6 do not.
        Assert.Equal(MermapGetResult.NoSpace, mermap.TryGet(0, 300, 6, out _, out _));
        Assert.Equal(MermapGetResult.Ok, mermap.TryGet(0, 300, 4, out MermapAllocation a, out bool flushed));
        Assert.Equal((12L, false), (a.FirstPage, flushed));

        // The slice is exhausted: with both slots held nothing lies above them; once the 4-page
        // slot is put back, the restart point is the end of the still-held slot (12), never the
        // free space below it.
        Assert.Equal(MermapGetResult.NoSpace, mermap.TryGet(0, 400, 3, out _, out _));
        mermap.Put(a);
        Assert.Equal(MermapGetResult.Ok, mermap.TryGet(0, 400, 3, out MermapAllocation b, out bool flushed2));
        Assert.Equal((12L, true), (b.FirstPage, flushed2));
        Assert.Equal(MermapGetResult.TooLarge, mermap.TryGet(0, 500, 17, out _, out _));
        mermap.Put(held);
    }

    [Fact]
    public void Mapped_frames_stay_marked_stale_until_the_slice_is_flushed()
    {
        using TestHost host = AllocatedHost();
        var mermap = new PerfSim.Core.Mermap.Mermap(host.Frames, cpus: 1);
        mermap.TryGet(0, 4096, 2, out MermapAllocation a, out _);
        mermap.Put(a);

        Assert.Equal(FrameFlags.MermapStale, host.Frames[4097].Flags & FrameFlags.MermapStale);
        mermap.FlushLocal(0);
        Assert.Equal(FrameFlags.None, host.Frames[4097].Flags & FrameFlags.MermapStale);
        Assert.Equal(FrameFlags.None, host.Frames[4096].Flags & FrameFlags.MermapStale);
    }

    [Fact]
    public void The_reserved_page_always_succeeds_even_with_every_slot_held()
    {
        using TestHost host = AllocatedHost();
        var mermap = new PerfSim.Core.Mermap.Mermap(host.Frames, cpus: 1, slicePages: 9);
        for (int i = 0; i < 4; i++)
        {
            mermap.TryGet(0, 10 + (2 * i), 2, out _, out _);
        }

        MermapAllocation reserved = mermap.GetReserved(0, 77);

        Assert.Equal((8L, 1L), (reserved.FirstPage, reserved.Pages));
    }

    /// <summary>A 1 GiB host whose frames are all allocated: mermap maps allocated pages, and a free
    /// frame has no flags to mark stale.</summary>
    private static TestHost AllocatedHost()
    {
        TestHost host = TestHost.X86(PageGeometry.GiB);
        for (long pfn = 0; pfn < host.Frames.EndPfn; pfn++)
        {
            host.Frames[pfn].Owner = FrameOwner.Allocated;
        }

        return host;
    }
}
