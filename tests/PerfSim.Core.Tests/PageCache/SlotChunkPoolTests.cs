using PerfSim.Core.Memory;
using PerfSim.Core.PageCache;
using PerfSim.Core.Tests.Tlb;

namespace PerfSim.Core.Tests.PageCache;

[Collection(NativeMemoryCollection.Name)]
public sealed class SlotChunkPoolTests
{
    private const long BlockBytes = 1L * 1024 * 1024;

    [Fact]
    public void Chunks_are_carved_from_1MiB_blocks_recycled_zeroed_and_freed_with_the_arena()
    {
        long before = NativeArena.LiveBytes;
        var arena = new NativeArena();
        var pool = new SlotChunkPool(arena);
        Assert.Equal(BlockBytes, (long)SlotChunkPool.ChunksPerBlock * SlotChunkPool.SlotsPerChunk * sizeof(uint));

        var rented = new List<uint>();
        for (int i = 0; i < SlotChunkPool.ChunksPerBlock; i++)
        {
            rented.Add(pool.Rent());
        }

        Assert.Equal(1, arena.BlockCount);
        Assert.Equal(BlockBytes, arena.AllocatedBytes);
        rented.Add(pool.Rent()); // the 513th chunk opens a second block
        Assert.Equal(2, arena.BlockCount);
        Assert.Equal(2 * BlockBytes, arena.AllocatedBytes);
        Assert.Equal(before + (2 * BlockBytes), NativeArena.LiveBytes);
        Assert.Equal(Enumerable.Range(1, SlotChunkPool.ChunksPerBlock + 1).Select(i => (uint)i), rented);

        // Every slot of every chunk is addressable and starts zero; a returned chunk comes back zeroed.
        foreach (uint chunk in rented)
        {
            Assert.Equal(0u, pool.Slot(chunk, 0) | pool.Slot(chunk, SlotChunkPool.SlotsPerChunk - 1));
            pool.Slot(chunk, SlotChunkPool.SlotsPerChunk - 1) = chunk;
        }

        Assert.Equal((uint)SlotChunkPool.ChunksPerBlock, pool.Slot(SlotChunkPool.ChunksPerBlock, SlotChunkPool.SlotsPerChunk - 1));
        pool.Slot(7, SlotChunkPool.SlotsPerChunk - 1) = 0;
        pool.Return(7);
        Assert.Equal(7u, pool.Rent());
        Assert.Equal(0u, pool.Slot(7, 0));
        Assert.Equal(SlotChunkPool.ChunksPerBlock + 1, pool.RentedChunks);

        arena.Dispose();
        Assert.Equal(0, arena.AllocatedBytes);
        Assert.Equal(0, arena.BlockCount);
        Assert.Equal(before, NativeArena.LiveBytes);
    }
}
