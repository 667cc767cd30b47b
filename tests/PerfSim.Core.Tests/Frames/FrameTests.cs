using System.Runtime.CompilerServices;
using PerfSim.Core.Frames;

namespace PerfSim.Core.Tests.Frames;

/// <summary>A frame is one 64-bit word: owned frames keep owner, flags, mapping and index; free
/// frames keep the two free-list links, and read as no flags, mapping 0 and the forward link.</summary>
public sealed class FrameTests
{
    [Fact]
    public void A_frame_is_8_bytes()
    {
        Assert.Equal(8, Unsafe.SizeOf<Frame>());
    }

    [Fact]
    public void An_owned_frame_keeps_every_field()
    {
        var f = new Frame { Owner = FrameOwner.PageCache, Flags = FrameFlags.Head | FrameFlags.UserMapped, MappingId = 0xBEEF, Index = 0xFEDC_BA98 };

        Assert.Equal((FrameOwner.PageCache, FrameFlags.Head | FrameFlags.UserMapped, (ushort)0xBEEF, 0xFEDC_BA98u), (f.Owner, f.Flags, f.MappingId, f.Index));
        f.Owner = FrameOwner.Allocated;
        Assert.Equal((FrameOwner.Allocated, FrameFlags.Head | FrameFlags.UserMapped, (ushort)0xBEEF, 0xFEDC_BA98u), (f.Owner, f.Flags, f.MappingId, f.Index));
    }

    [Theory]
    [InlineData(0u, 0u)]
    [InlineData(1u, Frame.MaxLink)]
    [InlineData(Frame.MaxLink, 1u)]
    [InlineData(0x5555_5555u, 0x2AAA_AAAAu)]
    [InlineData(0x2AAA_AAAAu, 0x5555_5555u)]
    public void A_free_frame_keeps_both_links_and_shows_the_forward_one_as_its_index(uint next, uint prev)
    {
        var f = new Frame { Owner = FrameOwner.Free };
        f.SetFreeNext(next);
        f.SetFreePrev(prev);

        Assert.Equal((next, prev), (f.FreeNext, f.FreePrev));
        Assert.Equal((FrameOwner.Free, FrameFlags.None, (ushort)0, next), (f.Owner, f.Flags, f.MappingId, f.Index));
        f.SetFreeNext(7);
        Assert.Equal((7u, prev), (f.FreeNext, f.FreePrev));
        f.SetFreePrev(9);
        Assert.Equal((7u, 9u), (f.FreeNext, f.FreePrev));
    }

    [Fact]
    public void Clearing_flags_of_a_free_frame_keeps_its_links_and_setting_them_throws()
    {
        var f = new Frame { Owner = FrameOwner.Free };
        f.SetFreeNext(Frame.MaxLink);
        f.SetFreePrev(Frame.MaxLink);

        // What a late mermap flush does to a page freed since: nothing.
        f.Flags &= ~FrameFlags.MermapStale;
        f.MappingId = 0;

        Assert.Equal((Frame.MaxLink, Frame.MaxLink), (f.FreeNext, f.FreePrev));
        Assert.Throws<InvalidOperationException>(() => f.Flags = FrameFlags.Uptodate);
        Assert.Throws<InvalidOperationException>(() => f.MappingId = 3);
        Assert.Throws<InvalidOperationException>(() => f.Index = 0);
    }

    [Fact]
    public void Changing_the_owner_between_free_and_owned_leaves_a_clean_frame()
    {
        var free = new Frame { Owner = FrameOwner.Free };
        free.SetFreeNext(12345);
        free.SetFreePrev(678);
        free.Owner = FrameOwner.PageTable;
        Assert.Equal((FrameOwner.PageTable, FrameFlags.None, (ushort)0, 0u), (free.Owner, free.Flags, free.MappingId, free.Index));

        var owned = new Frame { Owner = FrameOwner.PageCache, Flags = FrameFlags.Locked, MappingId = 5, Index = 99 };
        owned.Owner = FrameOwner.Free;
        Assert.Equal((0u, 0u, 0u), (owned.FreeNext, owned.FreePrev, owned.Index));
        Assert.Equal(FrameFlags.None, owned.Flags);
    }

    [Fact]
    public void The_buddy_head_mark_keeps_the_links_and_does_not_show_in_the_view()
    {
        var f = new Frame { Owner = FrameOwner.Free };
        f.SetFreeNext(Frame.MaxLink);
        f.SetFreePrev(Frame.MaxLink);
        f.SetBuddyHead();

        Assert.True(f.IsBuddyHead);
        Assert.Equal(0, f.BuddyOrderMark);
        Assert.Equal((Frame.MaxLink, Frame.MaxLink), (f.FreeNext, f.FreePrev));
        Assert.Equal((FrameOwner.Free, FrameFlags.None, (ushort)0, Frame.MaxLink), (f.Owner, f.Flags, f.MappingId, f.Index));
        f.SetFreePrev(3);
        f.SetFreeNext(0);
        Assert.True(f.IsBuddyHead, "relinking keeps the mark");
        f.Reset(FrameOwner.Free, FrameFlags.None);
        Assert.False(f.IsBuddyHead);
        Assert.Equal((0u, 0u), (f.FreeNext, f.FreePrev));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(15)]
    public void An_order_mark_reads_back_and_shows_as_a_bare_free_frame(int order)
    {
        var f = new Frame { Owner = FrameOwner.Free };
        f.SetBuddyOrderMark(order);

        Assert.Equal(order, f.BuddyOrderMark);
        Assert.False(f.IsBuddyHead);
        Assert.Equal((FrameOwner.Free, FrameFlags.None, (ushort)0, 0u), (f.Owner, f.Flags, f.MappingId, f.Index));
        f.Owner = FrameOwner.Allocated;
        Assert.Equal(0, f.BuddyOrderMark);
        Assert.Equal((FrameFlags.None, 0u), (f.Flags, f.Index));
    }

    [Fact]
    public void No_link_owned_frame_or_head_reads_as_an_order_mark()
    {
        // The largest link sits just below the marks.
        var linked = new Frame { Owner = FrameOwner.Free };
        linked.SetFreePrev(Frame.MaxLink);
        linked.SetFreeNext(Frame.MaxLink);
        Assert.Equal(0, linked.BuddyOrderMark);

        // An owned frame whose index has the mark's bit pattern is not free, so no mark.
        var owned = new Frame { Owner = FrameOwner.PageCache, Index = 0xFFFF_FFF3 };
        Assert.Equal(0, owned.BuddyOrderMark);
        Assert.False(owned.IsBuddyHead);

        Assert.Equal(0x7FFF_FFF0u, Frame.OrderMark);
        Assert.Equal(Frame.OrderMark - 1, Frame.MaxLink);
    }
}
