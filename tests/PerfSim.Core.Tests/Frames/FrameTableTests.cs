using PerfSim.Core.Allocator;
using PerfSim.Core.Frames;
using PerfSim.Core.Host;
using PerfSim.Core.Memory;
using PerfSim.Core.Tests.Allocator;

namespace PerfSim.Core.Tests.Frames;

/// <summary>
/// The frame table allocates its records a chunk (one max-order block) at a time, on first use,
/// and boot writes no per-frame state (issue 19 item 5). The reference is the same table with every
/// chunk allocated up front (<c>allocateAll</c>), on which boot and every operation write the
/// records as before: driven through the same allocator operations, both must hand out the same
/// pages and read the same at every pfn.
/// </summary>
public sealed class FrameTableTests
{
    /// <summary>Holes, ranges that start and end inside a chunk, and boot reservations (low memory,
    /// a kernel image): chunks that are whole RAM, part RAM, reserved in part, and holes. RAM ends
    /// inside a pageblock, where a claim's scan of the last pageblock used to index past the table
    /// (<c>PageAllocator.PageblockEnd</c>).</summary>
    private static MemoryLayout Ragged() => MemoryLayout.FromByteRanges(
    [
        (0x1000, 0x9F000),
        (0x100000, 0x2C00_0000),
        (0x2C40_3000, 0x4000_0000),
        (0x1_0000_0000, 0x1_0C12_3000),
    ]);

    private static AllocatorOptions Options(int cpus) => new()
    {
        CpuCount = cpus,
        ReservedLowBytes = PageGeometry.MiB,
        KernelImageStart = 16 * PageGeometry.MiB,
        KernelImageBytes = 40 * PageGeometry.MiB,
        PcpBatch = 15,
        PcpHigh = 45,
    };

    /// <summary>Seeded random allocations of every order (mapped, movable, unmapped), frees from any
    /// CPU and drains, in phases that fill and empty memory: the lazy table and the reference hand
    /// out the same pfns, read the same at every pfn (checked every 100 steps and at the end), and
    /// both keep the allocator's invariants.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void The_lazy_table_follows_the_fully_allocated_one_exactly(int seed)
    {
        const int Cpus = 3;
        MemoryLayout layout = Ragged();
        using var lazy = new AllocatorHost(layout, Options(Cpus));
        using var arena = new NativeArena();
        var eagerFrames = new FrameTable(arena, layout, allocateAll: true);
        var eagerMap = new FakeDirectMap();
        var eager = new PageAllocator(arena, eagerFrames, Options(Cpus), eagerMap, eagerMap);
        AssertSameFrames(lazy.Frames, eagerFrames, $"seed {seed} after boot");
        int afterBoot = lazy.Frames.AllocatedChunks;
        long chunks = (layout.EndPfn + FrameTable.ChunkFrames - 1) / FrameTable.ChunkFrames;
        Assert.True(afterBoot < chunks / 20, $"boot allocated {afterBoot} of {chunks} chunks");

        var rng = new Random(seed);
        var held = new List<(long Pfn, int Order)>();
        for (int step = 0; step < 4000; step++)
        {
            int cpu = rng.Next(Cpus);
            int op = rng.Next(100);
            bool filling = step / 500 % 2 == 0;
            if (op < (filling ? 85 : 20) || held.Count == 0)
            {
                (int order, AllocFlags flags) = AllocatorHost.RandomRequest(rng);
                bool got = lazy.Allocator.TryAllocatePages(cpu, order, flags, out long pfn);
                Assert.Equal(eager.TryAllocatePages(cpu, order, flags, out long expected), got);
                Assert.Equal(expected, pfn);
                if (got)
                {
                    held.Add((pfn, order));
                }
            }
            else if (op < 97)
            {
                (long pfn, int order) = AllocatorHost.TakeRandom(held, rng);
                lazy.Allocator.FreePages(cpu, pfn, order);
                eager.FreePages(cpu, pfn, order);
            }
            else
            {
                lazy.Allocator.DrainLocalPages(cpu);
                eager.DrainLocalPages(cpu);
            }

            if (step % 100 == 99)
            {
                AssertSameFrames(lazy.Frames, eagerFrames, $"seed {seed} step {step}");
            }
        }

        AssertSameFrames(lazy.Frames, eagerFrames, $"seed {seed} at the end");
        lazy.AssertInvariants($"seed {seed}, lazy");
        Assert.Null(eager.TestHookFindInvariantViolation());
        Assert.True(lazy.Frames.AllocatedChunks > afterBoot, "the sequence must reach chunks boot left unallocated");
        Assert.Equal(lazy.Frames.CountByOwner(), eagerFrames.CountByOwner());
        AllocatorCounters counters = lazy.Allocator.GetCounters();
        Assert.True(counters.MigratetypeFallbacks > 0 && counters.PageblockFlips > 0, "the sequence must claim from the other migratetype and flip pageblocks to unmapped");
    }

    /// <summary>Reading every frame, counting owners and checking the allocator's invariants
    /// allocate no chunk; a reference to a frame allocates its chunk only.</summary>
    [Fact]
    public void Reads_allocate_nothing_and_a_reference_allocates_its_chunk_only()
    {
        using var host = new AllocatorHost(Ragged(), Options(1));
        FrameTable frames = host.Frames;
        int before = frames.AllocatedChunks;
        long arenaBytes = host.Arena.AllocatedBytes;
        long free = 0;
        for (long pfn = 0; pfn < frames.EndPfn; pfn++)
        {
            free += frames.Read(pfn).Owner == FrameOwner.Free ? 1 : 0;
        }

        Assert.Equal(free, frames.CountByOwner()[(int)FrameOwner.Free]);
        Assert.Equal(free, frames.CountFree(0, frames.EndPfn));
        host.AssertInvariants("boot");
        Assert.Equal(before, frames.AllocatedChunks);
        Assert.Equal(arenaBytes, host.Arena.AllocatedBytes);

        // A chunk boot left as a free block, deep inside the 4 GiB range: its head and order mark
        // read back, and taking a reference keeps them.
        long block = 0x1_0400_0000 >> PageGeometry.PageShift;
        Frame head = frames.Read(block);
        Assert.True(head.IsBuddyHead);
        Assert.Equal(PageAllocator.MaxPageOrder, frames.Read(block + 1).BuddyOrderMark);
        Assert.Equal(FrameOwner.Free, frames.Read(block + 2).Owner);
        Assert.Equal(head.Bits, frames[block].Bits);
        Assert.Equal(before + 1, frames.AllocatedChunks);
        Assert.Equal(PageAllocator.MaxPageOrder, frames[block + 1].BuddyOrderMark);
        Assert.Equal(frames.Read(block + 3).Bits, frames[block + 2].Bits);
        Assert.Equal(before + 1, frames.AllocatedChunks);

        // Holes: inside a chunk that is part RAM, and whole chunks between 1 and 4 GiB.
        Assert.Equal(FrameOwner.Hole, frames.Read(0x2C20_0000L >> PageGeometry.PageShift).Owner);
        Assert.Equal(FrameOwner.Hole, frames.Read(0x8000_0000L >> PageGeometry.PageShift).Owner);
        host.AssertInvariants("after the references");
    }

    /// <summary>A chunk never allocated reads as its boot image: from the third frame on, every
    /// frame is the tail <see cref="FrameTable.TryReadUntouched"/> gives (free RAM or a hole); a
    /// chunk allocated is not untouched any more.</summary>
    [Fact]
    public void An_untouched_chunk_reads_as_its_tail_from_the_third_frame_on()
    {
        using var host = new AllocatorHost(Ragged(), Options(1));
        FrameTable frames = host.Frames;
        long block = 0x1_0400_0000 >> PageGeometry.PageShift;
        long hole = 0x8000_0000L >> PageGeometry.PageShift;
        foreach (long chunk in new[] { block, hole })
        {
            Assert.True(frames.TryReadUntouched(chunk, out Frame tail));
            Assert.Equal(chunk == hole ? FrameOwner.Hole : FrameOwner.Free, tail.Owner);
            for (long pfn = chunk + 2; pfn < chunk + FrameTable.ChunkFrames; pfn++)
            {
                Assert.Equal(tail.Bits, frames.Read(pfn).Bits);
            }
        }

        _ = frames[block + 5];
        Assert.False(frames.TryReadUntouched(block, out _));
        Assert.Throws<ArgumentException>(() => frames.TryReadUntouched(block + 1, out _));
    }

    /// <summary>A 1 TiB host boots its allocator with native memory for per-chunk state and the few
    /// chunks boot reserves, not for 268M frames (2 GiB before).</summary>
    [Fact]
    public void A_1_TiB_host_boots_without_per_frame_records()
    {
        using var arena = new NativeArena();
        var frames = new FrameTable(arena, MemoryLayout.FromSize(1L << 40));
        var allocator = new PageAllocator(arena, frames, new AllocatorOptions { CpuCount = 4 });
        long frameCount = frames.EndPfn;
        Assert.True(arena.AllocatedBytes < frameCount / 16, $"{arena.AllocatedBytes} B of native memory for {frameCount} frames");
        Assert.True(allocator.TryAllocatePages(0, PageAllocator.MaxPageOrder, AllocFlags.None, out long pfn));
        Assert.Equal(FrameOwner.Allocated, frames.Read(pfn).Owner);
        Assert.Equal(frameCount - frames.CountFree(0, frameCount), frames.CountByOwner()[(int)FrameOwner.Reserved] + (1 << PageAllocator.MaxPageOrder));
    }

    private static void AssertSameFrames(FrameTable actual, FrameTable expected, string context)
    {
        Assert.Equal(expected.EndPfn, actual.EndPfn);
        for (long pfn = 0; pfn < expected.EndPfn; pfn++)
        {
            if (actual.Read(pfn).Bits != expected.Read(pfn).Bits)
            {
                Assert.Fail($"{context}: pfn {pfn} reads {actual.Read(pfn).Bits:x16}, the fully allocated table {expected.Read(pfn).Bits:x16}");
            }
        }
    }
}

[Collection(Tlb.NativeMemoryCollection.Name)]
public sealed class FrameTableMemoryTests
{
    /// <summary>The chunks a run allocates (in slabs) and the per-chunk records go back with the arena.</summary>
    [Fact]
    public void Chunks_and_boot_records_are_freed_with_their_arena()
    {
        long before = NativeArena.LiveBytes;
        var arena = new NativeArena();
        var frames = new FrameTable(arena, MemoryLayout.FromSize(4 * PageGeometry.GiB));
        var allocator = new PageAllocator(arena, frames, new AllocatorOptions { CpuCount = 2 });
        for (int i = 0; i < 300; i++)
        {
            Assert.True(allocator.TryAllocatePages(i % 2, PageAllocator.MaxPageOrder, AllocFlags.None, out _));
        }

        Assert.True(frames.AllocatedChunks >= 300, $"{frames.AllocatedChunks} chunks");
        Assert.Equal(before + arena.AllocatedBytes, NativeArena.LiveBytes);
        arena.Dispose();
        Assert.Equal(before, NativeArena.LiveBytes);
    }
}
