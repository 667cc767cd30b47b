using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace PerfSim.Core.Frames;

/// <summary>Who owns a physical frame. Every RAM frame has exactly one owner at any time; the
/// conservation check counts them.</summary>
public enum FrameOwner : byte
{
    /// <summary>Not RAM (a hole in the physical address space).</summary>
    Hole = 0,

    /// <summary>In the page allocator (buddy free lists or per-CPU lists).</summary>
    Free = 1,

    /// <summary>A direct-map page-table page (allocated by a split; freed only by a collapse).</summary>
    PageTable = 2,

    /// <summary>A page-cache folio (secretmem or guest_memfd), <see cref="Frame.MappingId"/> and
    /// <see cref="Frame.Index"/> say where.</summary>
    PageCache = 3,

    /// <summary>Allocated, not (or no longer) in a page cache: in transit between the allocator and
    /// a mapping, or kernel data.</summary>
    Allocated = 4,

    /// <summary>Reserved at boot (kernel image, firmware): never allocated.</summary>
    Reserved = 5,

    /// <summary>Leaked on purpose: its direct-map state is unknown after a failed CPA call, and
    /// the kernel must leak it rather than return it (kernel-page-tables.rst).</summary>
    Leaked = 6,
}

/// <summary>Per-frame flag bits.</summary>
[Flags]
public enum FrameFlags : byte
{
    None = 0,

    /// <summary><c>PG_uptodate</c>: contents initialised (zeroed or written).</summary>
    Uptodate = 1 << 0,

    /// <summary>Bit 0 of <c>folio->private</c> in the guest_memfd v9–v12 series
    /// (<c>KVM_GMEM_FOLIO_NO_DIRECT_MAP</c>): this folio's direct-map entry was zapped.</summary>
    NoDirectMap = 1 << 1,

    /// <summary>The frame's bytes are all zero (tracked so "zero before zap" can be checked).</summary>
    Zeroed = 1 << 2,

    /// <summary><c>PG_locked</c>.</summary>
    Locked = 1 << 3,

    /// <summary>Frame is the head of a higher-order folio (the order is kept by the owner).</summary>
    Head = 1 << 4,

    /// <summary>Mapped through a mermap slot since that CPU's last mermap flush: a stale
    /// translation may still reach it, so it must not be freed yet (mm/mermap.c rule).</summary>
    MermapStale = 1 << 5,

    /// <summary>A folio (head frame) that a userspace fault mapped into its owner's page tables
    /// (guest_memfd's mmap): truncating it zaps those user PTEs first.</summary>
    UserMapped = 1 << 6,
}

/// <summary>
/// The state of one 4 KiB physical frame: 8 bytes, so a 1 TiB host (268M frames) needs 2 GiB.
/// </summary>
/// <remarks>
/// <para>One 64-bit word. Bit 0 says the frame is <see cref="FrameOwner.Free"/>. An owned frame
/// holds its owner in bits 1–3, the flags in 8–15, the mapping in 16–31 and the page-cache index
/// in 32–63. A free frame holds only what the page allocator needs: the two links of the
/// intrusive free list it is on (bits 1–31 forward, 32–62 backward, each <c>pfn + 1</c>, 0 = none),
/// as the kernel keeps <c>page-&gt;buddy_list</c> in the words of <c>struct page</c> that a free
/// page does not use (include/linux/mm_types.h), and the buddy state: bit 63 marks the head of a
/// free buddy block (<c>PageBuddy</c>), and a block of order 1 or more keeps its order
/// (<c>buddy_order</c>, which the kernel keeps in the head's <c>page-&gt;private</c>) in its second
/// frame, a free frame on no list: its backward field holds <see cref="OrderMark"/> | order, a
/// value no link takes. The allocator thus needs no per-frame state of its own.</para>
/// <para>The view is the same for both: a free frame reads as no flags, mapping 0, and its
/// forward link as <see cref="Index"/> (what it read as when the link was kept there; the buddy
/// bits do not show). Setting <see cref="Owner"/> of a free frame, or setting it to free, leaves a
/// frame with no flags, mapping, index, links or buddy state. A free page has no flags
/// (mm/page_alloc.c: PAGE_FLAGS_CHECK_AT_FREE), so clearing a free frame's flags or mapping
/// changes nothing, and setting one, or writing its index, is a model bug that throws.</para>
/// </remarks>
public struct Frame
{
    /// <summary>Links are 31-bit fields.</summary>
    public const int LinkBits = 31;

    /// <summary>The largest pfn + 1 a link can hold: the field's top 16 values are order marks
    /// (<see cref="OrderMark"/>), so the allocator serves fewer than 2^31 - 17 pfns (8 TiB of
    /// physical address space less 64 KiB, twice the largest host PerfSim accepts).</summary>
    public const uint MaxLink = OrderMark - 1;

    /// <summary>A backward field of this value | order (1–15) is no link: it marks the second frame
    /// of a free buddy block and holds the block's order.</summary>
    internal const uint OrderMark = LinkMask & ~0xFu;

    private const uint LinkMask = (1u << LinkBits) - 1;
    private const ulong FreeBit = 1;
    private const ulong BuddyBit = 1UL << 63;
    private const int OwnerShift = 1;
    private const ulong OwnerField = 0x7UL << OwnerShift;
    private const int NextShift = 1;
    private const int PrevShift = 32;

    /// <summary>The bits that identify an order mark: free, the mark in the backward field, no buddy bit.</summary>
    private const ulong OrderMarkMask = FreeBit | ((ulong)OrderMark << PrevShift) | BuddyBit;
    private const ulong OrderMarkBits = FreeBit | ((ulong)OrderMark << PrevShift);

    private ulong _bits;

    /// <summary>The second frame of a free block of the largest order (a whole
    /// <see cref="FrameTable"/> chunk), as boot leaves it.</summary>
    internal static readonly Frame BootOrderMark = MakeOrderMark(FrameTable.ChunkShift);

    /// <summary>The record as one word (0: a hole's).</summary>
    internal readonly ulong Bits => _bits;

    public FrameOwner Owner
    {
        // Branch-free: an owned frame's field (never Free), or Free when bit 0 is set.
        readonly get => (FrameOwner)((((_bits & OwnerField) >> OwnerShift) & ((_bits & FreeBit) - 1)) | (_bits & FreeBit));
        set => _bits = IsFree || value == FrameOwner.Free ? Encode(value, FrameFlags.None) : (_bits & ~OwnerField) | ((ulong)value << OwnerShift);
    }

    public FrameFlags Flags
    {
        readonly get => IsFree ? FrameFlags.None : (FrameFlags)(byte)(_bits >> 8);
        set
        {
            if (!IsFree)
            {
                _bits = (_bits & ~0xFF00UL) | ((ulong)value << 8);
            }
            else if (value != FrameFlags.None)
            {
                ThrowWriteOnFree(nameof(Flags));
            }
        }
    }

    /// <summary>The page-cache mapping (inode) id, 0 when none.</summary>
    public ushort MappingId
    {
        readonly get => IsFree ? (ushort)0 : (ushort)(_bits >> 16);
        set
        {
            if (!IsFree)
            {
                _bits = (_bits & ~0xFFFF_0000UL) | ((ulong)value << 16);
            }
            else if (value != 0)
            {
                ThrowWriteOnFree(nameof(MappingId));
            }
        }
    }

    /// <summary>Page-cache index (of an owned frame), or the forward free-list link (of a free one).</summary>
    public uint Index
    {
        readonly get => IsFree ? FreeNext : (uint)(_bits >> 32);
        set
        {
            if (IsFree)
            {
                // The forward link shows through Index; the allocator alone sets it (SetFreeNext).
                ThrowWriteOnFree(nameof(Index));
            }

            _bits = (_bits & 0xFFFF_FFFFUL) | ((ulong)value << 32);
        }
    }

    /// <summary>The forward free-list link (<c>pfn + 1</c> of the next frame, 0 = none) of a free frame.</summary>
    internal readonly uint FreeNext => (uint)(_bits >> NextShift) & LinkMask;

    /// <summary>The backward free-list link of a free frame.</summary>
    internal readonly uint FreePrev => (uint)(_bits >> PrevShift) & LinkMask;

    /// <summary><c>PageBuddy</c>: a free frame that heads a free buddy block (on a buddy list; a
    /// per-CPU list's frames are free and linked but no buddy heads).</summary>
    internal readonly bool IsBuddyHead => (_bits & (FreeBit | BuddyBit)) == (FreeBit | BuddyBit);

    /// <summary>The order (1–15) this frame holds as the second frame of a free buddy block, or 0
    /// when it holds none.</summary>
    internal readonly int BuddyOrderMark => (_bits & OrderMarkMask) == OrderMarkBits ? (int)(_bits >> PrevShift) & 0xF : 0;

    private readonly bool IsFree => (_bits & FreeBit) != 0;

    /// <summary>Makes this frame <paramref name="owner"/>'s with <paramref name="flags"/>, mapping and
    /// index 0 (no links when free), in one store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Reset(FrameOwner owner, FrameFlags flags) => _bits = Encode(owner, flags);

    internal void SetFreeNext(uint link)
    {
        Debug.Assert(IsFree && link <= MaxLink, "a free-list link on an owned frame, or out of range");
        _bits = (_bits & ~((ulong)LinkMask << NextShift)) | ((ulong)link << NextShift);
    }

    internal void SetFreePrev(uint link)
    {
        Debug.Assert(IsFree && link <= MaxLink, "a free-list link on an owned frame, or out of range");
        _bits = (_bits & ~((ulong)LinkMask << PrevShift)) | ((ulong)link << PrevShift);
    }

    /// <summary>Marks this free frame as a buddy head (<c>__SetPageBuddy</c>); its links stay.
    /// <see cref="Reset"/> (an unlink) clears the mark.</summary>
    internal void SetBuddyHead()
    {
        Debug.Assert(IsFree, "a buddy head that is not free");
        _bits |= BuddyBit;
    }

    /// <summary>Makes this free frame, on no list, the second frame of a free buddy block of
    /// <paramref name="order"/> (1–15). <see cref="Reset"/> clears it.</summary>
    internal void SetBuddyOrderMark(int order)
    {
        Debug.Assert(_bits == FreeBit && order is >= 1 and <= 15, "an order mark on a frame that is not free and unlinked, or out of range");
        _bits = OrderMarkBits | ((ulong)order << PrevShift);
    }

    private static Frame MakeOrderMark(int order)
    {
        Frame mark = default;
        mark.Reset(FrameOwner.Free, FrameFlags.None);
        mark.SetBuddyOrderMark(order);
        return mark;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Encode(FrameOwner owner, FrameFlags flags) =>
        owner == FrameOwner.Free ? FreeBit : ((ulong)owner << OwnerShift) | ((ulong)flags << 8);

    [DoesNotReturn]
    private static void ThrowWriteOnFree(string field) =>
        throw new InvalidOperationException($"{field} written on a free frame (a free frame has no flags, mapping or index)");
}
