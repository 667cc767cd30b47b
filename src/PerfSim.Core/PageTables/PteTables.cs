using System.Runtime.CompilerServices;
using PerfSim.Core.Memory;

namespace PerfSim.Core.PageTables;

/// <summary>
/// The 4K PTE tables of the direct map, one 512-entry table per 2 MiB region that is mapped by
/// PTEs (split, or mapped 4K at boot), as the kernel allocates a PTE page only when it splits a
/// PMD (arch/x86/mm/pat/set_memory.c: <c>split_large_page</c>). A region still mapped by a 2M or
/// 1G leaf has no table: on a host mapped with large pages the PTE level costs a 4-byte handle per
/// 2 MiB region that has a table (handles in chunks of 1,024, allocated with the chunk's first
/// table) instead of one byte per 4 KiB frame.
/// </summary>
/// <remarks>
/// <para>Layout: a per-region handle (table number + 1, 0 = no table; a chunk of 1,024 handles,
/// 2 GiB of address space, is allocated when a region of its first gets a table) and tables carved
/// from fixed blocks of <see cref="TablesPerBlock"/> tables in the arena. Blocks never move and tables
/// are never freed (the model has no collapse), so a reference to an entry stays valid.</para>
/// <para>Concurrency: as <see cref="DirectMap"/>, tables are added only by a caller that
/// serialises CPA changes. A reader of an existing table may run beside that: it sees either the
/// old or the grown block list, both holding every table handed out before.</para>
/// </remarks>
internal sealed class PteTables
{
    /// <summary>Tables per native block: 64 × 512 B = 32 KiB, so a host with a few splits pays a
    /// few blocks and a fully split 1 TiB host 8,192.</summary>
    internal const int TablesPerBlock = 64;

    private const int TablesPerBlockShift = 6;
    private const int Shift2M = 9;

    /// <summary>Handles per chunk: 1,024 × 4 B = 4 KiB for 2 GiB of address space.</summary>
    internal const int HandlesPerChunk = 1 << HandleChunkShift;

    private const int HandleChunkShift = 10;

    private readonly NativeArena _arena;
    private readonly ChunkedNativeArray<uint> _handleOf;
    private NativeArray<PteFlags>[] _blocks = [];
    private int _count;

    public PteTables(NativeArena arena, long regions)
    {
        _arena = arena;
        _handleOf = new ChunkedNativeArray<uint>(arena, regions, HandleChunkShift);
    }

    /// <summary>Tables allocated so far.</summary>
    public int Count => _count;

    /// <summary>Chunks of handles allocated so far.</summary>
    public int HandleChunks => _handleOf.AllocatedChunks;

    /// <summary>True when the 2 MiB region of <paramref name="pfn"/> has a PTE table.</summary>
    public bool HasTable(long pfn) => _handleOf.Read(pfn >> Shift2M) != 0;

    /// <summary>The PTE of <paramref name="pfn"/>; its region must have a table (its PMD is a
    /// table entry).</summary>
    public ref PteFlags this[long pfn]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            long table = _handleOf.Read(pfn >> Shift2M) - 1L;
            return ref _blocks[table >> TablesPerBlockShift][((table & (TablesPerBlock - 1)) << Shift2M) | (pfn & (PageGeometry.PagesPer2M - 1))];
        }
    }

    /// <summary>The <paramref name="count"/> PTEs from <paramref name="pfn"/>, inside one table.</summary>
    public Span<PteFlags> Entries(long pfn, int count)
    {
        long table = _handleOf.Read(pfn >> Shift2M) - 1L;
        return _blocks[table >> TablesPerBlockShift].Slice(((table & (TablesPerBlock - 1)) << Shift2M) | (pfn & (PageGeometry.PagesPer2M - 1)), count);
    }

    /// <summary>The table of <paramref name="pfn"/>'s region, allocated (all entries none) when it
    /// has none yet.</summary>
    public Span<PteFlags> GetOrAdd(long pfn)
    {
        long region = pfn >> Shift2M;
        if (_handleOf.Read(region) == 0)
        {
            if ((_count & (TablesPerBlock - 1)) == 0)
            {
                // A new block; the array is replaced, not resized in place, for concurrent readers.
                Volatile.Write(ref _blocks, [.. _blocks, _arena.Allocate<PteFlags>(TablesPerBlock * PageGeometry.PagesPer2M)]);
            }

            _handleOf.GetOrAdd(region) = (uint)++_count;
        }

        return Entries(region << Shift2M, PageGeometry.EntriesPerTable);
    }
}
