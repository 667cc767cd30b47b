using System.Runtime.InteropServices;
using PerfSim.Core.Frames;
using PerfSim.Core.Memory;

namespace PerfSim.Core.Mermap;

/// <summary>A mermap mapping handed out by <see cref="Mermap.TryGet"/>: pages
/// [<see cref="FirstPage"/>, <see cref="FirstPage"/> + <see cref="Pages"/>) of the CPU's slice map
/// frames [<see cref="Pfn"/>, <see cref="Pfn"/> + <see cref="Pages"/>).</summary>
public readonly record struct MermapAllocation(int Cpu, int Slot, long FirstPage, long Pages, long Pfn);

/// <summary>Why a <see cref="Mermap.TryGet"/> failed; the caller then takes its documented fallback.</summary>
public enum MermapGetResult : byte
{
    Ok,

    /// <summary>Larger than a slice (minus the reserved page).</summary>
    TooLarge,

    /// <summary>All four slots are held.</summary>
    NoSlot,

    /// <summary>No room even after a local flush: the in-use mappings leave too little space.</summary>
    NoSpace,
}

/// <summary>
/// The mermap ("epheMERal map", Brendan Jackman's ALLOC_UNMAPPED series; mm/mermap.c,
/// arch/x86/include/asm/mermap.h): short-lived CPU-local kernel mappings of a process's own pages,
/// made and dropped without a TLB shootdown.
/// </summary>
/// <remarks>
/// <para>One instance per mm. Each CPU owns a fixed slice of <see cref="SlicePages"/> pages whose
/// last page is reserved for <see cref="GetReserved"/>. State per (mm, CPU): a bump pointer and
/// four slots. A request that does not fit above the bump pointer restarts from the lowest address
/// above every in-use slot, after a <b>local</b> TLB flush of the slice
/// (<c>arch_mermap_flush_tlb()</c>: x86 <c>__flush_tlb_all()</c> on this CPU only); if it does not
/// fit there either, the get fails. <see cref="Put"/> rewrites the PTEs to the sentinel and frees
/// the slot but does not flush: the stale local entries are flushed only before the VA is reused.
/// Migration is disabled while a slot is held.</para>
/// <para>The caller must flush the region before freeing pages that were mapped there (a stale
/// entry could reach the recycled page): frames mapped since the slice's last flush carry
/// <see cref="FrameFlags.MermapStale"/>, which the allocator's free check reports.</para>
/// <para>Concurrency: a slice is used only by its CPU's caller (the kernel runs <c>mermap_get</c>
/// in task context with migration disabled); slices are padded to separate cache lines.</para>
/// </remarks>
public sealed class Mermap
{
    /// <summary>Slots per (mm, CPU) slice (<c>allocs[4]</c> in mm/mermap.c).</summary>
    public const int SlotsPerCpu = 4;

    /// <summary>Default slice: 512 pages (one 2 MiB folio, the prototype's
    /// <c>PAGE_SIZE &lt;&lt; MAX_PAGECACHE_ORDER</c> on a 2M-PMD config) plus the reserved page. The
    /// current tree's value was not located (mm/mermap.c in the series), so it is configurable.</summary>
    public const long DefaultSlicePages = 513;

    private readonly FrameTable _frames;
    private readonly Slice[] _slices;
    private readonly List<long>[] _unflushed;

    public Mermap(FrameTable frames, int cpus, long slicePages = DefaultSlicePages)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(slicePages, 2);
        _frames = frames;
        SlicePages = slicePages;
        _slices = new Slice[cpus];
        _unflushed = new List<long>[cpus];
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            _unflushed[cpu] = new List<long>((int)Math.Min(slicePages, 1024));
        }
    }

    /// <summary>Pages per CPU slice, the reserved last page included.</summary>
    public long SlicePages { get; }

    /// <summary>Usable pages per slice (the last is reserved).</summary>
    public long UsablePages => SlicePages - 1;

    public long Gets(int cpu) => _slices[cpu].Gets;

    public long Failures(int cpu) => _slices[cpu].Failures;

    public long LocalFlushes(int cpu) => _slices[cpu].LocalFlushes;

    /// <summary>Slots held on <paramref name="cpu"/>: migration is disabled while it is non-zero.</summary>
    public int HeldSlots(int cpu) => _slices[cpu].HeldCount;

    public bool MigrationDisabled(int cpu) => _slices[cpu].HeldCount > 0;

    /// <summary>
    /// <c>mermap_get(page, size, prot)</c>: maps <paramref name="pages"/> frames from
    /// <paramref name="pfn"/> into <paramref name="cpu"/>'s slice. <paramref name="flushedLocally"/>
    /// says whether a local TLB flush was needed to reuse the slice's VA range.
    /// </summary>
    public MermapGetResult TryGet(int cpu, long pfn, long pages, out MermapAllocation allocation, out bool flushedLocally)
    {
        allocation = default;
        flushedLocally = false;
        ref Slice s = ref _slices[cpu];
        if (pages < 1 || pages > UsablePages)
        {
            s.Failures++;
            return MermapGetResult.TooLarge;
        }

        int slot = s.FreeSlot();
        if (slot < 0)
        {
            s.Failures++;
            return MermapGetResult.NoSlot;
        }

        if (s.NextPage + pages > UsablePages)
        {
            long lowest = s.LowestAboveInUse();
            if (lowest + pages > UsablePages)
            {
                s.Failures++;
                return MermapGetResult.NoSpace;
            }

            FlushLocal(cpu);
            flushedLocally = true;
            s.NextPage = lowest;
        }

        allocation = new MermapAllocation(cpu, slot, s.NextPage, pages, pfn);
        s.Take(slot, s.NextPage, s.NextPage + pages);
        s.NextPage += pages;
        s.Gets++;
        MarkMapped(cpu, pfn, pages);
        return MermapGetResult.Ok;
    }

    /// <summary><c>mermap_get_reserved(page, prot)</c>: one page at the slice's reserved last page;
    /// the caller has preemption disabled and it always succeeds.</summary>
    public MermapAllocation GetReserved(int cpu, long pfn)
    {
        ref Slice s = ref _slices[cpu];
        s.Gets++;
        MarkMapped(cpu, pfn, 1);
        return new MermapAllocation(cpu, -1, UsablePages, 1, pfn);
    }

    /// <summary><c>mermap_put(alloc)</c>: sentinel PTEs, slot freed, migration re-enabled. No flush.</summary>
    public void Put(in MermapAllocation allocation)
    {
        if (allocation.Slot >= 0)
        {
            _slices[allocation.Cpu].Release(allocation.Slot);
        }
    }

    /// <summary>Whether <paramref name="cpu"/>'s slice mapped frames since its last flush: only
    /// such a CPU can still translate them (the PTEs are non-global and in this mm's page tables).</summary>
    public bool HasUnflushed(int cpu) => _unflushed[cpu].Count > 0;

    /// <summary>A local flush of <paramref name="cpu"/>'s slice: what a wrap-around does, and what a
    /// caller must do before freeing pages it mapped there.</summary>
    public void FlushLocal(int cpu)
    {
        _slices[cpu].LocalFlushes++;
        List<long> pfns = _unflushed[cpu];
        foreach (long pfn in pfns)
        {
            _frames[pfn].Flags &= ~FrameFlags.MermapStale;
        }

        pfns.Clear();
    }

    private void MarkMapped(int cpu, long pfn, long pages)
    {
        List<long> pfns = _unflushed[cpu];
        for (long p = pfn; p < pfn + pages; p++)
        {
            ref Frame frame = ref _frames[p];
            if ((frame.Flags & FrameFlags.MermapStale) == 0)
            {
                frame.Flags |= FrameFlags.MermapStale;
                pfns.Add(p);
            }
        }
    }

    /// <summary>Per-(mm, CPU) state, padded to a <see cref="NativeArena.CacheLine"/> so CPUs never share a line.</summary>
    [StructLayout(LayoutKind.Sequential, Size = NativeArena.CacheLine)]
    private struct Slice
    {
        public long NextPage;
        public long Gets;
        public long Failures;
        public long LocalFlushes;
        public SlotRange Slot0;
        public SlotRange Slot1;
        public SlotRange Slot2;
        public SlotRange Slot3;
        public int HeldCount;

        public readonly int FreeSlot()
        {
            for (int i = 0; i < SlotsPerCpu; i++)
            {
                if (!Get(i).IsHeld)
                {
                    return i;
                }
            }

            return -1;
        }

        public readonly long LowestAboveInUse()
        {
            long lowest = 0;
            for (int i = 0; i < SlotsPerCpu; i++)
            {
                SlotRange r = Get(i);
                if (r.IsHeld)
                {
                    lowest = Math.Max(lowest, r.End);
                }
            }

            return lowest;
        }

        public void Take(int slot, long first, long end)
        {
            Set(slot, new SlotRange(first, end));
            HeldCount++;
        }

        public void Release(int slot)
        {
            Set(slot, default);
            HeldCount--;
        }

        private readonly SlotRange Get(int i) => i switch { 0 => Slot0, 1 => Slot1, 2 => Slot2, _ => Slot3 };

        private void Set(int i, SlotRange r)
        {
            switch (i)
            {
                case 0: Slot0 = r; break;
                case 1: Slot1 = r; break;
                case 2: Slot2 = r; break;
                default: Slot3 = r; break;
            }
        }
    }

    /// <summary>A held slot's page range; a held slot has at least one page, so End == 0 means free.</summary>
    private readonly record struct SlotRange(long First, long End)
    {
        public bool IsHeld => End != 0;
    }
}
