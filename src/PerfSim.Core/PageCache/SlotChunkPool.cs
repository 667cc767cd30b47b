using System.Runtime.CompilerServices;
using PerfSim.Core.Concurrency;
using PerfSim.Core.Memory;

namespace PerfSim.Core.PageCache;

/// <summary>
/// Native storage for page-cache slots: chunks of 512 four-byte slots (2 KiB, one 2 MiB run of
/// indices), carved from 1 MiB arena blocks of 512 chunks and recycled through an intrusive free list.
/// </summary>
/// <remarks>
/// <para>Handles are 1-based (0 = no chunk). <see cref="Slot"/> may be called without the pool lock
/// (lock-free lookups): the block table is replaced, never mutated, when it grows, and a block
/// never moves or goes away before the arena is disposed.</para>
/// <para>A free chunk is all zero except slot 0, which links to the next free chunk; renting clears it.
/// Chunks are returned only at mapping teardown, so a lock-free reader of a live mapping never sees
/// a chunk change owners under it.</para>
/// </remarks>
internal sealed class SlotChunkPool
{
    public const int SlotsPerChunk = 1 << Sharding.PageCacheChunkShift;

    /// <summary>512 chunks = 1 MiB per arena block, the slots of 1 GiB of cached pages: a large
    /// cache needs few blocks, and a small cache wastes at most one block. (With 8-byte slots a
    /// block was 2 MiB and the arena backed it with one huge page; half of that per block keeps a
    /// 1 GiB guest's cache at one block, 4 B per cached page.)</summary>
    private const int ChunkShiftPerBlock = 9;
    public const int ChunksPerBlock = 1 << ChunkShiftPerBlock;

    private readonly NativeArena _arena;
    private readonly Lock _lock = new();
    private NativeArray<uint>[] _blocks = [];
    private uint _freeHead;
    private uint _chunksCarved;

    public SlotChunkPool(NativeArena arena) => _arena = arena;

    /// <summary>Chunks currently rented (for tests and reports).</summary>
    public long RentedChunks { get; private set; }

    public uint Rent()
    {
        lock (_lock)
        {
            RentedChunks++;
            if (_freeHead != 0)
            {
                uint chunk = _freeHead;
                ref uint link = ref Slot(chunk, 0);
                _freeHead = link;
                link = 0;
                return chunk;
            }

            if (_chunksCarved == (uint)_blocks.Length * ChunksPerBlock)
            {
                NativeArray<uint>[] grown = [.. _blocks, _arena.Allocate<uint>((long)ChunksPerBlock * SlotsPerChunk)];
                Volatile.Write(ref _blocks, grown);
            }

            return ++_chunksCarved;
        }
    }

    /// <summary>Returns an all-zero chunk.</summary>
    public void Return(uint chunk)
    {
        lock (_lock)
        {
            Slot(chunk, 0) = _freeHead;
            _freeHead = chunk;
            RentedChunks--;
        }
    }

    /// <summary>Hints the host CPU to load the line of slot <paramref name="slot"/> of
    /// <paramref name="chunk"/> (ignored beyond the chunk).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(uint chunk, long slot)
    {
        if ((ulong)slot < SlotsPerChunk)
        {
            uint zeroBased = chunk - 1;
            NativeArray<uint> block = Volatile.Read(ref _blocks)[zeroBased >> ChunkShiftPerBlock];
            block.Prefetch(((long)(zeroBased & (ChunksPerBlock - 1)) * SlotsPerChunk) + slot);
        }
    }

    /// <summary>Slot <paramref name="slot"/> of <paramref name="chunk"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref uint Slot(uint chunk, long slot)
    {
        uint zeroBased = chunk - 1;
        NativeArray<uint> block = Volatile.Read(ref _blocks)[zeroBased >> ChunkShiftPerBlock];
        return ref block[((long)(zeroBased & (ChunksPerBlock - 1)) * SlotsPerChunk) + slot];
    }
}
