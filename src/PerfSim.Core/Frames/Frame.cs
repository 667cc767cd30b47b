using System.Runtime.InteropServices;

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
/// <remarks><see cref="Index"/> is the page-cache index while the frame is in a page cache and the
/// allocator's free-list link while it is free: a frame is never both (the union keeps the
/// per-frame budget at 8 bytes).</remarks>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct Frame
{
    public FrameOwner Owner;
    public FrameFlags Flags;

    /// <summary>The page-cache mapping (inode) id, 0 when none.</summary>
    public ushort MappingId;

    /// <summary>Page-cache index, or the allocator's link while free.</summary>
    public uint Index;
}
