using System.Diagnostics;
using System.Runtime.CompilerServices;
using PerfSim.Core.Frames;
using PerfSim.Core.Memory;

namespace PerfSim.Core.PageTables;

/// <summary>One direct-map entry as <c>lookup_address()</c> returns it: the leaf level and its bits.</summary>
public readonly record struct DirectMapEntry(PageLevel Level, PteFlags Flags)
{
    public bool IsHole => Level == PageLevel.None;

    public bool IsPresent => (Flags & PteFlags.Present) != 0;
}

/// <summary>Entry counts per level, as <c>direct_pages_count[]</c>, and their /proc/meminfo lines.</summary>
public readonly record struct DirectMapCounts(long Entries4K, long Entries2M, long Entries1G)
{
    public long DirectMap4k => Entries4K * 4;

    public long DirectMap2M => Entries2M * 2048;

    public long DirectMap1G => Entries1G * 1048576;

    /// <summary>Mapped bytes: conserved by splits and collapses (arch/x86/mm/pat/set_memory.c: update_page_count).</summary>
    public long MappedBytes => (DirectMap4k + DirectMap2M + DirectMap1G) * 1024;
}

/// <summary>
/// The kernel's linear map of all RAM: a page-table tree of 1G (PUD), 2M (PMD) and 4K (PTE)
/// entries, with the change-page-attribute rules of x86-64 and arm64.
/// </summary>
/// <remarks>
/// <para>Layout: one byte per entry, indexed by pfn >> 18, pfn >> 9 and pfn: a flat PUD array,
/// the PMD in a chunk per 1 GiB region whose PUD is a table, and the PTEs in a table per 2 MiB
/// region whose PMD is a table (<see cref="PteTables"/>). An entry below a leaf is meaningless
/// until a split fills it, so a lookup is at most three reads of entries plus a chunk pointer and
/// a table handle (O(1)), and the map costs a few bytes per split region.</para>
/// <para>Concurrency: not synchronised. In the kernel every <c>__change_page_attr()</c> runs under
/// the global <c>cpa_lock</c> (x86) or <c>pgtable_split_lock</c> (arm64 splits); callers serialise
/// the same way. Lookups by other CPUs may run concurrently with a writer only where the caller
/// accepts a torn view, as real page walkers do.</para>
/// </remarks>
public sealed partial class DirectMap
{
    /// <summary>x86 PAGE_KERNEL (present, RW, dirty, global, NX): the protection of every entry at
    /// boot. arm64 reuses it for PAGE_KERNEL (valid, write).</summary>
    public const PteFlags PageKernel = PteFlags.ProtMask;

    private const int Shift2M = 9;
    private const int Shift1G = 18;

    private readonly NativeArray<PteFlags> _pud;
    /// <summary>The PMD level in one 512-entry chunk per 1 GiB region, allocated when the region's
    /// PUD first becomes a table (boot or a 1G split): a region still mapped by a 1G leaf has no
    /// PMD entries, so a host mapped with 1G pages pays 8 bytes of chunk pointer per GiB, not a byte
    /// per 2 MiB. A lookup reads it only below a table PUD, whose chunk exists.</summary>
    private readonly ChunkedNativeArray<PteFlags> _pmd;
    private readonly PteTables _pte;
    private readonly IPageTableAllocator _pageTables;
    private readonly IDirectMapFlush _flush;

    private long _entries4K;
    private long _entries2M;
    private long _entries1G;

    /// <summary>Builds the boot-time linear map of <paramref name="frames"/>' RAM (see
    /// <see cref="DirectMapBoot"/> for the layout rules).</summary>
    public DirectMap(NativeArena arena, FrameTable frames, DirectMapProfile profile, IPageTableAllocator pageTables, IDirectMapFlush flush)
        : this(arena, frames, profile, pageTables, flush, DirectMapBoot.Plan(frames.Layout, profile))
    {
    }

    /// <summary>Builds a linear map from an explicit boot plan (e.g. from /proc/meminfo totals).</summary>
    public DirectMap(NativeArena arena, FrameTable frames, DirectMapProfile profile, IPageTableAllocator pageTables, IDirectMapFlush flush, IEnumerable<BootMapping> plan)
    {
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(pageTables);
        ArgumentNullException.ThrowIfNull(flush);
        ArgumentNullException.ThrowIfNull(plan);
        Profile = profile;
        Frames = frames;
        EndPfn = frames.EndPfn;
        _pageTables = pageTables;
        _flush = flush;
        _pud = arena.Allocate<PteFlags>(RoundUp(EndPfn, PageGeometry.PagesPer1G) >> Shift1G);
        _pmd = new ChunkedNativeArray<PteFlags>(arena, RoundUp(EndPfn, PageGeometry.PagesPer1G) >> Shift2M, Shift1G - Shift2M);
        _pte = new PteTables(arena, RoundUp(EndPfn, PageGeometry.PagesPer1G) >> Shift2M);
        foreach (BootMapping m in plan)
        {
            MapAtBoot(m);
        }
    }

    public DirectMapProfile Profile { get; }

    public FrameTable Frames { get; }

    /// <summary>One past the highest mapped pfn (the kernel's <c>max_pfn_mapped</c>).</summary>
    public long EndPfn { get; }

    /// <summary>Entry counts now (<c>direct_pages_count[]</c>).</summary>
    public DirectMapCounts Counts => new(_entries4K, _entries2M, _entries1G);

    /// <summary>/proc/vmstat <c>direct_map_level2_splits</c> (2M→4K).</summary>
    public long Level2Splits { get; private set; }

    /// <summary>/proc/vmstat <c>direct_map_level3_splits</c> (1G→2M).</summary>
    public long Level3Splits { get; private set; }

    /// <summary>PTE tables the model holds now: one per 2 MiB region mapped by PTEs, split or
    /// mapped 4K at boot.</summary>
    public int PteTableCount => _pte.Count;

    /// <summary>Chunks of PMD entries allocated: 1 GiB regions whose PUD is (or was) a table (tests:
    /// regions mapped by 1G leaves cost nothing).</summary>
    internal int PmdChunks => _pmd.AllocatedChunks;

    /// <summary>Chunks of PTE-table handles allocated (tests: untouched 2 GiB spans cost nothing).</summary>
    internal int PteHandleChunks => _pte.HandleChunks;

    /// <summary>Page-table pages allocated by splits (boot-time tables come from memblock and are
    /// not counted).</summary>
    public long PageTablePages { get; private set; }

    /// <summary>arm64 contiguous groups broken by boundary splits.</summary>
    public long ContBreaks { get; private set; }

    /// <summary><c>flush_tlb_all()</c> calls made by splits.</summary>
    public long GlobalFlushes { get; private set; }

    /// <summary>The entry that maps <paramref name="pfn"/>, as <c>lookup_address()</c> finds it.</summary>
    public DirectMapEntry Lookup(long pfn)
    {
        // One construction at the end: returning a different literal entry from each branch made
        // the JIT assemble the struct in a stack slot byte by byte and reload it whole, a
        // store-forwarding stall on every page walk.
        PteFlags flags = Leaf(pfn, out PageLevel level);
        return EntryOf(flags, level);
    }

    private static DirectMapEntry EntryOf(PteFlags leaf, PageLevel level) =>
        new(leaf == PteFlags.None ? PageLevel.None : level, leaf);

    /// <summary>Changing <paramref name="pfn"/>'s entry rewrites that entry and nothing else: it is a
    /// 4K PTE outside any contiguous group. A large leaf needs a split, and a PTE with the
    /// contiguous hint (arm64 BBML2) breaks its whole CONT_PTE group (arch/arm64/mm/mmu.c:
    /// <c>split_kernel_leaf_mapping</c>), so either touches entries other CPUs' changes touch
    /// too.</summary>
    public bool ChangesOnlyItsEntry(long pfn)
    {
        PteFlags flags = Leaf(pfn, out PageLevel level);
        return level == PageLevel.Level4K && flags != PteFlags.None && (flags & PteFlags.Cont) == 0;
    }

    /// <summary>The entry every page of the 2 MiB region starting at <paramref name="pfn"/> reads
    /// (<see cref="Lookup"/>) when one leaf maps the whole region (a 2 MiB or 1 GiB entry, or none
    /// beyond the map); false when PTEs map it (its pages may differ), as they map a region the
    /// map ends inside.</summary>
    public bool TryLookupRegion(long pfn, out DirectMapEntry entry)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pfn);
        if ((pfn & (PageGeometry.PagesPer2M - 1)) != 0)
        {
            throw new ArgumentException($"pfn {pfn} does not start a 2 MiB region", nameof(pfn));
        }

        PteFlags flags = Leaf(pfn, out PageLevel level);
        entry = EntryOf(flags, level);
        Debug.Assert(level == PageLevel.Level4K || pfn >= EndPfn || pfn + PageGeometry.PagesPer2M <= EndPfn,
            "boot maps a partial last region with PTEs, and the map never merges");
        return level != PageLevel.Level4K;
    }

    /// <summary><c>kernel_page_present()</c>: the page's direct-map entry is present.</summary>
    public bool IsPresent(long pfn) => (Leaf(pfn, out _) & PteFlags.Present) != 0;

    /// <summary>The leaf entry's bits for <paramref name="pfn"/> (None for a hole or beyond the map)
    /// and its level.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private PteFlags Leaf(long pfn, out PageLevel level)
    {
        level = PageLevel.None;
        if ((ulong)pfn >= (ulong)EndPfn)
        {
            return PteFlags.None;
        }

        PteFlags entry = _pud[pfn >> Shift1G];
        level = PageLevel.Level1G;
        if ((entry & PteFlags.Table) != 0)
        {
            entry = _pmd.Read(pfn >> Shift2M);
            level = PageLevel.Level2M;
            if ((entry & PteFlags.Table) != 0)
            {
                entry = _pte[pfn];
                level = PageLevel.Level4K;
            }
        }

        return entry;
    }

    private void MapAtBoot(BootMapping m)
    {
        long pfn = m.StartPfn;
        PteFlags leaf = PteFlags.Leaf | PageKernel | (m.Cont ? PteFlags.Cont : PteFlags.None);
        switch (m.Level)
        {
            case PageLevel.Level1G:
                _pud[pfn >> Shift1G] = leaf;
                _entries1G++;
                break;
            case PageLevel.Level2M:
                _pud[pfn >> Shift1G] = PteFlags.Table;
                _pmd.GetOrAdd(pfn >> Shift2M) = leaf;
                _entries2M++;
                break;
            case PageLevel.Level4K:
                for (long p = pfn; p < pfn + m.Pages;)
                {
                    long end = Math.Min(pfn + m.Pages, RoundUp(p + 1, PageGeometry.PagesPer2M));
                    _pud[p >> Shift1G] = PteFlags.Table;
                    _pmd.GetOrAdd(p >> Shift2M) = PteFlags.Table;
                    _pte.GetOrAdd(p).Slice((int)(p & (PageGeometry.PagesPer2M - 1)), (int)(end - p)).Fill(leaf);
                    _entries4K += end - p;
                    p = end;
                }

                break;
            default:
                throw new ArgumentException($"boot mapping has no level: {m}", nameof(m));
        }
    }

    private static long RoundUp(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);

    /// <summary>The protection a request produces from <paramref name="old"/>: clear, then set, then
    /// drop GLOBAL from a non-present entry (<c>pgprot_clear_protnone_bits</c>: GLOBAL doubles as
    /// PROTNONE on non-present x86 entries). Structure bits are kept.</summary>
    private static PteFlags ApplyProt(PteFlags old, PteFlags set, PteFlags clear)
    {
        PteFlags prot = ((old & PteFlags.ProtMask) & ~clear) | set;
        if ((prot & PteFlags.Present) == 0)
        {
            prot &= ~PteFlags.Global;
        }

        return (old & ~PteFlags.ProtMask) | prot;
    }
}
