using System.Diagnostics;
using System.Runtime.CompilerServices;
using PerfSim.Core.Host;
using PerfSim.Core.Memory;

namespace PerfSim.Core.Frames;

/// <summary>
/// The state of every physical frame of a host, indexed by pfn (<c>struct page</c> array, in
/// spirit). Frames in RAM start <see cref="FrameOwner.Free"/>; frames in holes stay
/// <see cref="FrameOwner.Hole"/>.
/// </summary>
/// <remarks>
/// <para><b>Allocated on use.</b> The records live in chunks of one max-order buddy block
/// (<see cref="ChunkFrames"/> frames, 8 KiB), allocated at the first reference to one of their
/// frames (<see cref="this[long]"/>). Until then a chunk is what boot left it as, described by one
/// 8-byte boot record per chunk: a hole (all zero), RAM not yet given to the allocator (all free),
/// or a free max-order block the allocator put on its list at boot without writing it
/// (<see cref="BootHead"/>): its head frame is the boot record (links and buddy mark), its second
/// frame holds the order mark, the rest are free. <see cref="Read"/> reads a frame without
/// allocating its chunk, and a chunk allocated starts as exactly that state. So a host of which a
/// run touches a small part (a 1 GiB guest on 1 TiB) holds records for that part only, and boot
/// writes no per-frame state. Written in any other way, a frame's chunk is allocated first.</para>
/// <para>Not synchronised: each frame is written by the component that owns it (allocator,
/// page cache, direct map); callers that share frames across threads synchronise around them.
/// Allocating a chunk is thread-safe (<see cref="ChunkedNativeArray{T}"/>).</para>
/// </remarks>
public sealed class FrameTable
{
    /// <summary>Log2 of <see cref="ChunkFrames"/>: the page allocator's largest order
    /// (<c>MAX_PAGE_ORDER</c>), so a free block of that order is one whole chunk.</summary>
    public const int ChunkShift = Allocator.PageAllocator.MaxPageOrder;

    /// <summary>Frames per chunk (4 MiB of memory, 8 KiB of records).</summary>
    public const int ChunkFrames = 1 << ChunkShift;

    /// <summary>Chunks per block taken from the arena: 2 MiB, so that the records the lanes touch
    /// sit on few huge pages.</summary>
    private const int ChunksPerSlab = 256;

    private const long ChunkMask = ChunkFrames - 1;

    /// <summary>A chunk's boot record for RAM not handed to the allocator: its frames are free.</summary>
    private static readonly Frame s_freeFrame = new() { Owner = FrameOwner.Free };

    private readonly ChunkedNativeArray<Frame> _chunks;

    /// <summary>Per chunk, its boot record: the head frame of a chunk never allocated (default: a
    /// hole; <see cref="s_freeFrame"/>: free RAM; a buddy head: a boot free block).</summary>
    private readonly NativeArray<Frame> _boot;

    /// <param name="arena">Where the records live.</param>
    /// <param name="layout">The host's RAM ranges.</param>
    /// <param name="allocateAll">Allocate every chunk now (the reference the lazy table is tested
    /// against: boot then writes every record, as it did before chunks).</param>
    public FrameTable(NativeArena arena, MemoryLayout layout, bool allocateAll = false)
    {
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentNullException.ThrowIfNull(layout);
        Layout = layout;
        EndPfn = layout.EndPfn;
        long chunks = (EndPfn + ChunkMask) >> ChunkShift;
        _boot = arena.Allocate<Frame>(chunks);
        _chunks = new ChunkedNativeArray<Frame>(arena, EndPfn, ChunkShift, Initialize, ChunksPerSlab);

        // RAM frames per chunk: a whole chunk of RAM is free RAM in its boot record; a chunk
        // that is part RAM, part hole gets its records now.
        var partial = new List<long>();
        long chunk = -1;
        long covered = 0;
        foreach (RamRange range in layout.Ranges)
        {
            for (long pfn = range.StartPfn; pfn < range.EndPfn;)
            {
                long c = pfn >> ChunkShift;
                long next = Math.Min(range.EndPfn, (c + 1) << ChunkShift);
                if (c != chunk)
                {
                    Classify(chunk, covered, partial);
                    chunk = c;
                    covered = 0;
                }

                covered += next - pfn;
                pfn = next;
            }
        }

        Classify(chunk, covered, partial);
        foreach (long c in partial)
        {
            Span<Frame> frames = _chunks.GetOrAddSpan(c << ChunkShift, ChunkLength(c));
            foreach (RamRange range in layout.Ranges)
            {
                long from = Math.Max(range.StartPfn, c << ChunkShift);
                long to = Math.Min(range.EndPfn, (c << ChunkShift) + frames.Length);
                if (from < to)
                {
                    frames.Slice((int)(from & ChunkMask), (int)(to - from)).Fill(s_freeFrame);
                }
            }
        }

        if (allocateAll)
        {
            for (long c = 0; c < chunks; c++)
            {
                _ = ref _chunks.GetOrAdd(c << ChunkShift);
            }
        }
    }

    public MemoryLayout Layout { get; }

    /// <summary>One past the highest pfn (max_pfn).</summary>
    public long EndPfn { get; }

    /// <summary>Chunks of records allocated so far (each <see cref="ChunkFrames"/> frames).</summary>
    public int AllocatedChunks => _chunks.AllocatedChunks;

    /// <summary>The frame at <paramref name="pfn"/>, to read or write; its chunk is allocated if it
    /// was not (use <see cref="Read"/> to read a frame a run may never have touched).</summary>
    public ref Frame this[long pfn]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _chunks.GetOrAdd(pfn);
    }

    /// <summary>The frame at <paramref name="pfn"/>, without allocating its chunk.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Frame Read(long pfn)
    {
        ref Frame frame = ref _chunks.RefOrNull(pfn);
        return Unsafe.IsNullRef(ref frame) ? BootFrame(pfn) : frame;
    }

    /// <summary>Whether the chunk at <paramref name="pfn"/> (a multiple of <see cref="ChunkFrames"/>)
    /// was never allocated, so that it reads as boot left it: then <paramref name="tail"/> is the
    /// frame each of its frames from the third on reads as (<see cref="Read"/> gives the first two,
    /// which may hold a boot block's links and order mark). Whole-table scans take such a chunk at
    /// once.</summary>
    public bool TryReadUntouched(long pfn, out Frame tail)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pfn);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(pfn, EndPfn);
        if ((pfn & ChunkMask) != 0)
        {
            throw new ArgumentException($"pfn {pfn} does not start a chunk", nameof(pfn));
        }

        tail = UntouchedTail(pfn >> ChunkShift);
        return !_chunks.HasChunk(pfn);
    }

    /// <summary>Counts frames per owner (index = <see cref="FrameOwner"/>): the conservation check.</summary>
    public long[] CountByOwner() => CountByOwner(0, EndPfn);

    /// <summary>Free frames in [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public long CountFree(long start, long end) => CountByOwner(start, end)[(int)FrameOwner.Free];

    /// <summary>Frames per owner in [<paramref name="start"/>, <paramref name="end"/>), a whole
    /// chunk never allocated at a time (all hole or all free).</summary>
    private long[] CountByOwner(long start, long end)
    {
        long[] counts = new long[Enum.GetValues<FrameOwner>().Length];
        for (long pfn = start; pfn < end;)
        {
            if ((pfn & ChunkMask) == 0 && pfn + ChunkFrames <= end && !_chunks.HasChunk(pfn))
            {
                counts[(int)UntouchedTail(pfn >> ChunkShift).Owner] += ChunkFrames;
                pfn += ChunkFrames;
                continue;
            }

            counts[(int)Read(pfn).Owner]++;
            pfn++;
        }

        return counts;
    }

    /// <summary>Whether the chunk at <paramref name="pfn"/> (a multiple of <see cref="ChunkFrames"/>)
    /// is whole RAM never written and not handed to the allocator: free frames only.</summary>
    internal bool IsUntouchedFreeChunk(long pfn) =>
        (pfn & ChunkMask) == 0 && !_chunks.HasChunk(pfn) && _boot[pfn >> ChunkShift].Bits == s_freeFrame.Bits;

    /// <summary>The head frame of the boot free block at <paramref name="pfn"/>, to write while the
    /// chunk is not allocated (its links and buddy mark, at boot): the chunk's boot record. When the
    /// chunk is allocated, its frame.</summary>
    internal ref Frame BootHead(long pfn)
    {
        if (_chunks.HasChunk(pfn))
        {
            return ref _chunks.GetOrAdd(pfn);
        }

        Debug.Assert((pfn & ChunkMask) == 0, "a boot block's head is its chunk's first frame");
        return ref _boot[pfn >> ChunkShift];
    }

    /// <summary>Frames of the (last, maybe short) chunk <paramref name="chunk"/>.</summary>
    private int ChunkLength(long chunk) => (int)Math.Min(ChunkFrames, EndPfn - (chunk << ChunkShift));

    private void Classify(long chunk, long covered, List<long> partial)
    {
        if (chunk < 0 || covered == 0)
        {
            return;
        }

        if (covered == ChunkFrames)
        {
            _boot[chunk] = s_freeFrame;
        }
        else
        {
            partial.Add(chunk);
        }
    }

    /// <summary>What the frames of chunk <paramref name="chunk"/> from the third on read as while it
    /// is not allocated: a hole's or free RAM's record (the first two of a boot block differ, but
    /// have the same owner: free).</summary>
    private Frame UntouchedTail(long chunk) => BootFrame(_boot[chunk], 2);

    /// <summary>Frame <paramref name="pfn"/> of a chunk never allocated.</summary>
    private Frame BootFrame(long pfn) => BootFrame(_boot[pfn >> ChunkShift], pfn & ChunkMask);

    /// <summary>The frame at <paramref name="offset"/> of a chunk whose boot record is
    /// <paramref name="head"/>: the record itself first, then all zero (a hole), or the order mark
    /// (a boot block's second frame) and free frames.</summary>
    private static Frame BootFrame(Frame head, long offset) =>
        offset == 0 ? head
        : head.Bits == 0 ? default
        : offset == 1 && head.IsBuddyHead ? Frame.BootOrderMark
        : s_freeFrame;

    /// <summary>A chunk allocated starts as its boot state (a hole's comes zeroed).</summary>
    private void Initialize(long chunk, Span<Frame> frames)
    {
        Frame head = _boot[chunk];
        if (head.Bits == 0)
        {
            return;
        }

        frames.Fill(BootFrame(head, ChunkMask));
        for (int i = 0; i < Math.Min(2, frames.Length); i++)
        {
            frames[i] = BootFrame(head, i);
        }
    }
}
