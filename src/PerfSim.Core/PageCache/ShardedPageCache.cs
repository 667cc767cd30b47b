using System.Diagnostics.CodeAnalysis;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using PerfSim.Core.Concurrency;
using PerfSim.Core.Frames;
using PerfSim.Core.Memory;

namespace PerfSim.Core.PageCache;

/// <summary>
/// The page caches of all mappings (inodes): per mapping, index → folio (the <c>i_pages</c> xarray
/// in spirit), with the mapping's <c>AS_*</c> flags and size. Slots live in native 2 KiB chunks,
/// one per 2 MiB run of indices; a folio of order n fills its 2^n slots with one 4-byte entry
/// (see <see cref="Encode"/>).
/// </summary>
/// <remarks>
/// <para><b>Concurrency contract.</b> Inserts and removals take the shard lock of (mapping, index)
/// (<see cref="Sharding.PageCacheShard"/>; the <c>i_pages</c> lock, striped). Lookups
/// (<see cref="TryLookup"/>) take no lock: they read the chunk handle and the slot with acquire
/// semantics, and inserts publish the slot last with release semantics after setting the frames'
/// owner, mapping and index (the order of <c>__filemap_add_folio</c>). A lookup returns a snapshot:
/// callers that must not race with removal hold what the kernel holds
/// (<c>filemap_invalidate_lock</c> shared in fault paths, exclusive around PUNCH_HOLE and truncate).
/// The <see cref="IFreeFolioCallback"/> runs with no lock held. Creating and tearing down mappings
/// is serialised by a separate lock; a mapping must not be used while it is being torn down
/// (the kernel evicts an inode only when nothing refers to it).</para>
/// <para><b>Ids.</b> Mapping ids are 1..65,535 (<see cref="Frame.MappingId"/> is 16 bits, 0 = none).
/// Released ids are reused last-released-first, so the ids handed out depend only on the call
/// sequence.</para>
/// <para><b>Largest folio.</b> Order 9 (2 MiB): <c>MAX_PAGECACHE_ORDER</c> is capped by
/// <c>PREFERRED_MAX_PAGECACHE_ORDER</c> = <c>HPAGE_PMD_ORDER</c> on x86-64, which is also what keeps
/// a folio inside one shard.</para>
/// </remarks>
public sealed class ShardedPageCache
{
    /// <summary>Highest mapping id (ids are 16-bit, 0 means "no mapping").</summary>
    public const int MaxMappings = ushort.MaxValue;

    /// <summary>Largest folio order the page cache holds (<c>MAX_PAGECACHE_ORDER</c> on x86-64).</summary>
    public const int MaxFolioOrder = 9;

    /// <summary>Highest <see cref="FrameTable.EndPfn"/> a 4-byte slot entry can address.</summary>
    internal const long MaxEndPfn = 1L << 31;

    private const int ChunkShift = Sharding.PageCacheChunkShift;
    private const long ChunkMask = SlotChunkPool.SlotsPerChunk - 1;

    private readonly FrameTable _frames;
    private readonly SlotChunkPool _chunks;
    private readonly ShardLocks _shardLocks;
    private readonly MappingState?[] _mappings = new MappingState?[MaxMappings + 1];
    private readonly Lock _mappingsLock = new();
    private readonly ushort[] _releasedIds = new ushort[MaxMappings];
    private int _releasedCount;
    private int _neverUsedId = 1;

    /// <summary>A page cache over <paramref name="frames"/>, with <paramref name="shardCount"/> lock
    /// shards (a power of two; null = <see cref="Sharding.ShardCountFor"/> with the page-cache cap).</summary>
    public ShardedPageCache(NativeArena arena, FrameTable frames, int? shardCount = null)
    {
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentNullException.ThrowIfNull(frames);
        int shards = shardCount ?? Sharding.ShardCountFor(Sharding.PageCacheShardCap);
        if (shards < 1 || (shards & (shards - 1)) != 0)
        {
            throw new ArgumentException("the shard count must be a power of two", nameof(shardCount));
        }

        if (frames.EndPfn > MaxEndPfn)
        {
            throw new ArgumentException("page-cache slots hold 2 × pfn + 2^order in 32 bits: at most 2^31 pfns (8 TiB of physical address space)", nameof(frames));
        }

        _frames = frames;
        _chunks = new SlotChunkPool(arena);
        _shardLocks = new ShardLocks(shards);
    }

    /// <summary>Number of lock shards.</summary>
    public int ShardCount => _shardLocks.Count;

    /// <summary>Mappings alive now.</summary>
    public int LiveMappings
    {
        get
        {
            lock (_mappingsLock)
            {
                return _neverUsedId - 1 - _releasedCount;
            }
        }
    }

    /// <summary>Creates a mapping of <paramref name="sizePages"/> pages (the inode's size, fixed for
    /// secretmem after the first ftruncate and for guest_memfd at creation).</summary>
    /// <returns>False when 65,535 mappings are alive (the caller reports <c>-ENFILE</c>).</returns>
    public bool TryCreateMapping(AddressSpaceFlags flags, long sizePages, out ushort mapping)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizePages);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sizePages, (long)uint.MaxValue + 1);
        lock (_mappingsLock)
        {
            if (_releasedCount > 0)
            {
                mapping = _releasedIds[--_releasedCount];
            }
            else if (_neverUsedId <= MaxMappings)
            {
                mapping = (ushort)_neverUsedId++;
            }
            else
            {
                mapping = 0;
                return false;
            }

            var state = new MappingState(flags, sizePages, new uint[(sizePages + ChunkMask) >> ChunkShift]);
            Volatile.Write(ref _mappings[mapping], state);
            return true;
        }
    }

    /// <summary>The mapping's <c>AS_*</c> flags.</summary>
    public AddressSpaceFlags GetFlags(ushort mapping) => Live(mapping).Flags;

    /// <summary>Sets the mapping's flags (<c>mapping_set_*</c>, done once at creation time in the kernel).</summary>
    public void SetFlags(ushort mapping, AddressSpaceFlags flags) => Live(mapping).Flags = flags;

    /// <summary>The mapping's size in pages.</summary>
    public long GetSizePages(ushort mapping) => Live(mapping).SizePages;

    /// <summary>The folio covering (<paramref name="mapping"/>, <paramref name="index"/>), without a lock
    /// (<c>filemap_get_entry</c>'s RCU walk). False for an absent index, an index beyond the size or a
    /// dead mapping.</summary>
    public bool TryLookup(ushort mapping, long index, out Folio folio)
    {
        MappingState? state = Volatile.Read(ref _mappings[mapping]);
        if (state is not null && (ulong)index < (ulong)state.SizePages)
        {
            uint chunk = Volatile.Read(ref state.Chunks[index >> ChunkShift]);
            if (chunk != 0)
            {
                uint entry = Volatile.Read(ref _chunks.Slot(chunk, index & ChunkMask));
                if (entry != 0)
                {
                    folio = Decode(entry, index);
                    return true;
                }
            }
        }

        folio = default;
        return false;
    }

    /// <summary>Hints the host CPU to load the slot of (<paramref name="mapping"/>,
    /// <paramref name="index"/>) that a later <see cref="TryLookup"/> reads: nothing when its chunk is
    /// absent (that lookup reads no slot) or the index is out of range. Changes no state.</summary>
    public void Prefetch(ushort mapping, long index)
    {
        MappingState? state = Volatile.Read(ref _mappings[mapping]);
        if (state is not null && (ulong)index < (ulong)state.SizePages)
        {
            uint chunk = Volatile.Read(ref state.Chunks[index >> ChunkShift]);
            if (chunk != 0)
            {
                _chunks.Prefetch(chunk, index & ChunkMask);
            }
        }
    }

    /// <summary>
    /// <c>filemap_add_folio</c>: inserts the 2^<paramref name="order"/> frames at <paramref name="pfn"/>
    /// (allocated, <see cref="FrameOwner.Allocated"/>) at <paramref name="index"/> (aligned to the
    /// folio size) and marks them <see cref="FrameOwner.PageCache"/> with this mapping and their index.
    /// </summary>
    /// <returns><see cref="AddResult.Exists"/> when any of the indices is taken: nothing changed.</returns>
    public AddResult FilemapAddFolio(ushort mapping, long index, long pfn, int order)
    {
        MappingState state = Live(mapping);
        if ((uint)order > MaxFolioOrder || index < 0 || (index & ((1L << order) - 1)) != 0 || index + (1L << order) > state.SizePages)
        {
            ThrowBadFolio(mapping, index, order, "order above 9, misaligned index or beyond the mapping's size");
        }

        // A folio is a compound page from the buddy allocator, so its first pfn is aligned to its
        // size (the kernel's folio_pfn() of a large folio is always so); the slot entry relies on it.
        if (pfn < 0 || (pfn & ((1L << order) - 1)) != 0 || pfn + (1L << order) > _frames.EndPfn)
        {
            ThrowBadFolio(mapping, index, order, "pfn not aligned to the folio's size or beyond the frame table");
        }

        long pages = 1L << order;
        for (long p = pfn; p < pfn + pages; p++)
        {
            if (_frames[p].Owner != FrameOwner.Allocated)
            {
                ThrowBadFolio(mapping, index, order, "frames not allocated (or already in a page cache)");
            }
        }

        uint entry = Encode(pfn, order);
        long slot = index & ChunkMask;
        using (ShardLock(mapping, index))
        {
            AssertShardInvariants(mapping, index, pfn, pages, FrameOwner.Allocated);
            ref uint chunkRef = ref state.Chunks[index >> ChunkShift];
            uint chunk = chunkRef;
            if (chunk == 0)
            {
                chunk = _chunks.Rent();
                Volatile.Write(ref chunkRef, chunk);
            }
            else
            {
                for (long s = slot; s < slot + pages; s++)
                {
                    if (_chunks.Slot(chunk, s) != 0)
                    {
                        return AddResult.Exists;
                    }
                }
            }

            // folio->mapping and folio->index are set before the entry is stored.
            for (long i = 0; i < pages; i++)
            {
                ref Frame frame = ref _frames[pfn + i];
                frame.Owner = FrameOwner.PageCache;
                frame.MappingId = mapping;
                frame.Index = (uint)(index + i);
            }

            for (long s = slot; s < slot + pages; s++)
            {
                Volatile.Write(ref _chunks.Slot(chunk, s), entry);
            }

            // Faults fill a mapping mostly in index order, and the next slots' line was last
            // touched when the chunk was cleared: start loading it now rather than stall on it
            // in a later lookup (one 64-byte slot line = 16 indices).
            _chunks.Prefetch(chunk, slot + pages);
        }

        return AddResult.Added;
    }

    /// <summary>
    /// <c>filemap_remove_folio</c> of the folio covering <paramref name="index"/>, in the kernel's
    /// order: under the shard lock the entry leaves the cache and the frames' mapping is cleared
    /// (<see cref="Frame.MappingId"/> = 0, owner <see cref="FrameOwner.Allocated"/>; the index is kept,
    /// as <c>page_cache_delete</c> keeps <c>folio-&gt;index</c>); then, with no lock held,
    /// <paramref name="freeFolio"/> runs. The frames are still allocated afterwards: the caller drops
    /// its reference and frees them to the allocator.
    /// </summary>
    public RemoveResult FilemapRemoveFolio(ushort mapping, long index, IFreeFolioCallback? freeFolio, out Folio folio)
    {
        MappingState state = Live(mapping);
        if ((ulong)index >= (ulong)state.SizePages)
        {
            folio = default;
            return RemoveResult.NotFound;
        }

        using (ShardLock(mapping, index))
        {
            uint chunk = state.Chunks[index >> ChunkShift];
            uint entry = chunk == 0 ? 0 : _chunks.Slot(chunk, index & ChunkMask);
            if (entry == 0)
            {
                folio = default;
                return RemoveResult.NotFound;
            }

            folio = Decode(entry, index);
            AssertShardInvariants(mapping, folio.Index, folio.Pfn, folio.Pages, FrameOwner.PageCache);
            long first = folio.Index & ChunkMask;
            for (long s = first; s < first + folio.Pages; s++)
            {
                Volatile.Write(ref _chunks.Slot(chunk, s), 0u);
            }

            for (long i = 0; i < folio.Pages; i++)
            {
                ref Frame frame = ref _frames[folio.Pfn + i];
                frame.MappingId = 0;
                frame.Owner = FrameOwner.Allocated;
            }
        }

        freeFolio?.FreeFolio(folio);
        return RemoveResult.Removed;
    }

    /// <summary>
    /// <c>truncate_inode_pages_range</c> / PUNCH_HOLE over [<paramref name="start"/>,
    /// <paramref name="end"/>): every folio wholly inside the range is removed, in index order, each
    /// followed by <c>free_folio</c> and the drop of the cache's reference. A large folio only
    /// partly inside stays (the kernel would split or zero it; see the docs).
    /// </summary>
    /// <returns>The number of folios removed.</returns>
    public int TruncateRange(ushort mapping, long start, long end, ITruncateCallbacks callbacks)
    {
        ArgumentNullException.ThrowIfNull(callbacks);
        MappingState state = Live(mapping);
        end = Math.Min(end, state.SizePages);
        int removed = 0;
        for (long index = Math.Max(start, 0); index < end;)
        {
            uint chunk = Volatile.Read(ref state.Chunks[index >> ChunkShift]);
            if (chunk == 0)
            {
                index = (index | ChunkMask) + 1;
                continue;
            }

            uint entry = Volatile.Read(ref _chunks.Slot(chunk, index & ChunkMask));
            if (entry == 0)
            {
                index++;
                continue;
            }

            Folio found = Decode(entry, index);
            if (found.Index >= start && found.Index + found.Pages <= end
                && FilemapRemoveFolio(mapping, index, callbacks, out Folio folio) == RemoveResult.Removed)
            {
                callbacks.PutFolio(folio);
                removed++;
            }

            index = found.Index + found.Pages;
        }

        return removed;
    }

    /// <summary>Inode eviction: truncate the whole mapping, then release its id and its slot chunks.</summary>
    /// <returns>The number of folios removed.</returns>
    public int TeardownMapping(ushort mapping, ITruncateCallbacks callbacks)
    {
        MappingState state = Live(mapping);
        int removed = TruncateRange(mapping, 0, state.SizePages, callbacks);
        lock (_mappingsLock)
        {
            Volatile.Write(ref _mappings[mapping], null);
            foreach (uint chunk in state.Chunks)
            {
                if (chunk != 0)
                {
                    _chunks.Return(chunk);
                }
            }

            _releasedIds[_releasedCount++] = mapping;
        }

        return removed;
    }

    /// <summary>Slot chunks in use (2 KiB each).</summary>
    internal long TestHookRentedChunks => _chunks.RentedChunks;

    /// <summary>True when the calling thread holds any shard lock.</summary>
    internal bool TestHookHoldsAnyShardLock() => _shardLocks.HeldByCurrentThread();

    /// <summary>DEBUG, at the start of a shard-lock region: the calling thread holds the shard of
    /// (<paramref name="mapping"/>, <paramref name="index"/>), and the folio's frames are as the
    /// operation expects (allocated before an insert; cached under this mapping at their indices
    /// before a removal).</summary>
    [Conditional("DEBUG")]
    private void AssertShardInvariants(ushort mapping, long index, long pfn, long pages, FrameOwner expected)
    {
        Debug.Assert(_shardLocks.HeldByCurrentThread(Sharding.PageCacheShard(mapping, index, _shardLocks.Count)), "page-cache shard lock not held");
        for (long i = 0; i < pages; i++)
        {
            ref Frame frame = ref _frames[pfn + i];
            Debug.Assert(frame.Owner == expected, $"pfn {pfn + i}: owner {frame.Owner}, expected {expected}");
            Debug.Assert(expected != FrameOwner.PageCache || (frame.MappingId == mapping && frame.Index == (uint)(index + i)), $"pfn {pfn + i}: cached as {frame.MappingId}:{frame.Index}, its slot is {mapping}:{index + i}");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ShardLocks.Scope ShardLock(ushort mapping, long index) => _shardLocks.Enter(Sharding.PageCacheShard(mapping, index, _shardLocks.Count));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private MappingState Live(ushort mapping) =>
        Volatile.Read(ref _mappings[mapping]) ?? throw new InvalidOperationException(FormattableString.Invariant($"mapping {mapping} is not alive"));

    /// <summary>A slot entry: <c>2 × pfn + 2^order</c>. The pfn is aligned to 2^order, so the
    /// entry's lowest set bit is bit <c>order</c> and the bits above it are the pfn: one 32-bit word
    /// holds both for pfns below 2^31 (<see cref="MaxEndPfn"/>), and 0 is the empty slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Encode(long pfn, int order) => (uint)((pfn << 1) + (1L << order));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Folio Decode(uint entry, long index)
    {
        int order = BitOperations.TrailingZeroCount(entry);
        return new Folio((entry & (entry - 1)) >> 1, order, index & ~((1L << order) - 1));
    }

    [DoesNotReturn]
    private static void ThrowBadFolio(ushort mapping, long index, int order, string why) =>
        throw new ArgumentException(FormattableString.Invariant($"cannot add a folio of order {order} at index {index} of mapping {mapping}: {why}"));

    private sealed class MappingState(AddressSpaceFlags flags, long sizePages, uint[] chunks)
    {
        public AddressSpaceFlags Flags { get; set; } = flags;

        public long SizePages { get; } = sizePages;

        /// <summary>Per 512-index run: the slot chunk handle, 0 until the first folio lands there.</summary>
        public uint[] Chunks { get; } = chunks;
    }
}
