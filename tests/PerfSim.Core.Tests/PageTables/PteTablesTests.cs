using PerfSim.Core.Frames;
using PerfSim.Core.Host;
using PerfSim.Core.Memory;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Tests.PageTables;

/// <summary>The PTE level holds a table only for a 2 MiB region mapped by PTEs (boot 4K edges and
/// splits), and its memory goes back with the arena.</summary>
public sealed class PteTablesTests
{
    // PTEs in the first 2 MiB region and in the last one (259 tail pages), everything else 2M or 1G leaves.
    private static readonly MemoryLayout s_pcLayout = BootLayoutTests.PcLayout;

    [Fact]
    public void A_host_mapped_with_large_pages_has_tables_only_for_its_4K_edges()
    {
        using var host = new TestHost(s_pcLayout, DirectMapProfile.X86);

        Assert.Equal(2, host.DirectMap.PteTableCount);
    }

    [Fact]
    public void Each_2M_split_adds_one_table_and_nothing_else_does()
    {
        using var host = new TestHost(s_pcLayout, DirectMapProfile.X86);
        DirectMap dm = host.DirectMap;
        long inside1G = PageGeometry.PagesPer1G + 5;

        dm.SetInvalidNoFlush(0, inside1G);
        Assert.Equal(3, dm.PteTableCount);
        dm.SetDefaultNoFlush(0, inside1G);
        dm.SetInvalidNoFlush(0, inside1G + 1);
        Assert.Equal(3, dm.PteTableCount);

        // A whole 2M leaf changes in place ("preserved"): no table.
        dm.SetValidNoFlush(0, 2 * PageGeometry.PagesPer1G, PageGeometry.PagesPer2M, valid: false);
        Assert.Equal(3, dm.PteTableCount);
        Assert.Equal(PageLevel.Level2M, dm.Lookup(2 * PageGeometry.PagesPer1G).Level);
        Assert.Equal(dm.Level2Splits + 2, dm.PteTableCount);
    }

    [Fact]
    public void The_PTE_level_of_a_large_page_host_costs_far_less_than_a_byte_per_frame()
    {
        using var arena = new NativeArena();
        MemoryLayout layout = MemoryLayout.FromSize(16 * PageGeometry.GiB);
        using var frameArena = new NativeArena(); // the frame table's chunks are not the direct map's
        var frames = new FrameTable(frameArena, layout);
        long before = arena.AllocatedBytes;

        var dm = new DirectMap(arena, frames, DirectMapProfile.X86, new TopDownPageTableAllocator(frames), new CountingDirectMapFlush());

        long directMapBytes = arena.AllocatedBytes - before;
        Assert.True(directMapBytes * 20 < layout.EndPfn, $"{directMapBytes} B of direct map for {layout.EndPfn} frames");
        Assert.True(dm.PteTableCount <= 1, $"{dm.PteTableCount} tables");
    }

    [Fact]
    public void Tables_come_in_blocks_that_the_arena_frees()
    {
        var arena = new NativeArena();
        using var frameArena = new NativeArena(); // the frame table's chunks are not the direct map's
        var frames = new FrameTable(frameArena, MemoryLayout.FromSize(4 * PageGeometry.GiB));
        var dm = new DirectMap(arena, frames, DirectMapProfile.X86, new TopDownPageTableAllocator(frames), new CountingDirectMapFlush());
        int blocksBefore = arena.BlockCount;
        long bytesBefore = arena.AllocatedBytes;
        int tablesBefore = dm.PteTableCount;
        int handleChunksBefore = dm.PteHandleChunks;
        int pmdChunksBefore = dm.PmdChunks;

        // One page of each of 100 regions: 100 splits, 100 tables.
        for (long region = 0; region < 100; region++)
        {
            dm.SetInvalidNoFlush(0, PageGeometry.PagesPer1G + (region * PageGeometry.PagesPer2M) + 7);
        }

        int tables = tablesBefore + 100;
        Assert.Equal(tables, dm.PteTableCount);
        int blocks = CeilDiv(tables, PteTables.TablesPerBlock) - CeilDiv(tablesBefore, PteTables.TablesPerBlock);
        // The 100 regions lie in the first 2 GiB: at most one new chunk of handles.
        int handleChunks = dm.PteHandleChunks - handleChunksBefore;
        Assert.InRange(handleChunks, 0, 1);
        Assert.Equal(1, dm.PteHandleChunks);
        // They lie in the second GiB, split to 2M leaves first: its chunk of PMD entries, if boot had none.
        int pmdChunks = dm.PmdChunks - pmdChunksBefore;
        Assert.Equal(1, pmdChunks);
        Assert.Equal(blocksBefore + blocks + handleChunks + pmdChunks, arena.BlockCount);
        Assert.Equal(
            bytesBefore + (blocks * PteTables.TablesPerBlock * PageGeometry.PagesPer2M) + (handleChunks * PteTables.HandlesPerChunk * sizeof(uint))
                + (pmdChunks * PageGeometry.EntriesPerTable),
            arena.AllocatedBytes);
        for (long region = 0; region < 100; region++)
        {
            long pfn = PageGeometry.PagesPer1G + (region * PageGeometry.PagesPer2M);
            Assert.False(dm.IsPresent(pfn + 7));
            Assert.True(dm.IsPresent(pfn + 6) && dm.IsPresent(pfn + 8), $"region {region}: only its own PTE changed");
        }

        arena.Dispose();

        Assert.Equal(0, arena.AllocatedBytes);
        Assert.Equal(0, arena.BlockCount);
    }

    [Fact]
    public void Handles_are_allocated_only_for_the_2_GiB_spans_that_get_a_table()
    {
        using var arena = new NativeArena();
        using var frameArena = new NativeArena(); // the frame table's chunks are not the direct map's
        var frames = new FrameTable(frameArena, MemoryLayout.FromSize(16 * PageGeometry.GiB));
        long beforeMap = arena.AllocatedBytes;
        var dm = new DirectMap(arena, frames, DirectMapProfile.X86, new TopDownPageTableAllocator(frames), new CountingDirectMapFlush());
        int chunks = dm.PteHandleChunks;
        Assert.InRange(chunks, 0, 2); // the boot 4K edges, if any
        int pmdChunks = dm.PmdChunks;
        // PUD bytes, the PMD directory (16 chunks of 1 GiB) and its boot chunks, the handle
        // directory (8 chunks of 2 GiB), the boot chunks and tables.
        long expected = 16 + (16 * sizeof(long)) + (pmdChunks * PageGeometry.EntriesPerTable) + (8 * sizeof(long)) + (chunks * PteTables.HandlesPerChunk * sizeof(uint))
            + (CeilDiv(dm.PteTableCount, PteTables.TablesPerBlock) * PteTables.TablesPerBlock * PageGeometry.PagesPer2M);
        Assert.Equal(expected, arena.AllocatedBytes - beforeMap);

        // A split at 9 GiB: one table, one chunk of handles, and every earlier table still answers.
        int boot4K = dm.PteTableCount;
        long pfn = (9 * PageGeometry.PagesPer1G) + 1234;
        long beforeSplit = arena.AllocatedBytes;
        dm.SetInvalidNoFlush(0, pfn);
        Assert.Equal(chunks + 1, dm.PteHandleChunks);
        Assert.Equal(pmdChunks + 1, dm.PmdChunks); // the 1G split at 9 GiB
        long newBlock = boot4K % PteTables.TablesPerBlock == 0 ? PteTables.TablesPerBlock * PageGeometry.PagesPer2M : 0;
        Assert.Equal(PageGeometry.EntriesPerTable + (PteTables.HandlesPerChunk * sizeof(uint)) + newBlock, arena.AllocatedBytes - beforeSplit);
        Assert.Equal(boot4K + 1, dm.PteTableCount);
        Assert.False(dm.IsPresent(pfn));
        Assert.True(dm.IsPresent(pfn - 1) && dm.IsPresent(pfn + 1) && dm.IsPresent(0));
        Assert.Equal(PageLevel.Level4K, dm.Lookup(pfn + 1).Level);
        Assert.Equal(PageLevel.Level1G, dm.Lookup(12 * PageGeometry.PagesPer1G).Level);

        // Another split in the same 2 GiB span allocates no more handles.
        dm.SetInvalidNoFlush(0, pfn + (100 * PageGeometry.PagesPer2M));
        Assert.Equal(chunks + 1, dm.PteHandleChunks);
    }

    [Fact]
    public void PMD_entries_exist_only_for_1G_regions_whose_PUD_is_a_table()
    {
        using var arena = new NativeArena();
        using var frameArena = new NativeArena(); // the frame table's chunks are not the direct map's
        var frames = new FrameTable(frameArena, MemoryLayout.FromSize(16 * PageGeometry.GiB));
        var dm = new DirectMap(arena, frames, DirectMapProfile.X86, new TopDownPageTableAllocator(frames), new CountingDirectMapFlush());
        int boot = dm.PmdChunks;
        Assert.InRange(boot, 0, 2); // the first GiB's 2M and 4K edges, if any
        long region = 5 * PageGeometry.PagesPer1G;

        // Never split: the whole GiB is a 1G leaf, read without a PMD chunk.
        Assert.Equal(new DirectMapEntry(PageLevel.Level1G, DirectMap.PageKernel | PteFlags.Leaf), dm.Lookup(region + 777));
        Assert.True(dm.IsPresent(region + PageGeometry.PagesPer1G - 1));
        Assert.Equal(boot, dm.PmdChunks);

        // The first split of the GiB allocates its chunk: 511 2M leaves with the 1G leaf's bits, one table.
        long before = arena.AllocatedBytes;
        dm.SetInvalidNoFlush(0, region + 3);
        Assert.Equal(boot + 1, dm.PmdChunks);
        Assert.Equal(PageLevel.Level2M, dm.Lookup(region + PageGeometry.PagesPer2M).Level);
        Assert.Equal(PageLevel.Level2M, dm.Lookup(region + PageGeometry.PagesPer1G - 1).Level);
        Assert.True(dm.IsPresent(region + PageGeometry.PagesPer1G - 1));
        Assert.Equal(PageLevel.Level4K, dm.Lookup(region + 3).Level);
        Assert.False(dm.IsPresent(region + 3));
        Assert.Equal(PageLevel.Level1G, dm.Lookup(region + PageGeometry.PagesPer1G).Level);
        Assert.True(arena.AllocatedBytes - before >= PageGeometry.EntriesPerTable);

        // More splits in that GiB use its chunk.
        dm.SetInvalidNoFlush(0, region + (300 * PageGeometry.PagesPer2M) + 9);
        Assert.Equal(boot + 1, dm.PmdChunks);
        Assert.False(dm.IsPresent(region + (300 * PageGeometry.PagesPer2M) + 9));
        Assert.True(dm.IsPresent(region + (300 * PageGeometry.PagesPer2M) + 8));
    }

    private static int CeilDiv(int value, int divisor) => (value + divisor - 1) / divisor;
}

[Collection(Tlb.NativeMemoryCollection.Name)]
public sealed class DirectMapMemoryTests
{
    [Fact]
    public void PMD_chunks_and_PTE_tables_are_freed_with_the_arena()
    {
        long before = NativeArena.LiveBytes;
        var arena = new NativeArena();
        var frameArena = new NativeArena(); // the frame table's chunks are not the direct map's
        var frames = new FrameTable(frameArena, MemoryLayout.FromSize(8 * PageGeometry.GiB));
        var dm = new DirectMap(arena, frames, DirectMapProfile.X86, new TopDownPageTableAllocator(frames), new CountingDirectMapFlush());
        int boot = dm.PmdChunks;
        for (long gib = 2; gib < 5; gib++)
        {
            dm.SetInvalidNoFlush(0, (gib * PageGeometry.PagesPer1G) + 1);
        }

        Assert.Equal(boot + 3, dm.PmdChunks);
        Assert.Equal(before + arena.AllocatedBytes + frameArena.AllocatedBytes, NativeArena.LiveBytes);
        arena.Dispose();
        Assert.Equal(before + frameArena.AllocatedBytes, NativeArena.LiveBytes);
        frameArena.Dispose();
        Assert.Equal(before, NativeArena.LiveBytes);
    }
}
