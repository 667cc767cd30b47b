using PerfSim.Core.Host;
using PerfSim.Core.Memory;

namespace PerfSim.Core.Frames;

/// <summary>
/// The state of every physical frame of a host, indexed by pfn (<c>struct page</c> array, in
/// spirit). Frames in RAM start <see cref="FrameOwner.Free"/>; frames in holes stay
/// <see cref="FrameOwner.Hole"/>.
/// </summary>
/// <remarks>Not synchronised: each frame is written by the component that owns it (allocator,
/// page cache, direct map); callers that share frames across threads synchronise around them.</remarks>
public sealed class FrameTable
{
    private readonly NativeArray<Frame> _frames;

    public FrameTable(NativeArena arena, MemoryLayout layout)
    {
        ArgumentNullException.ThrowIfNull(arena);
        ArgumentNullException.ThrowIfNull(layout);
        Layout = layout;
        _frames = arena.Allocate<Frame>(layout.EndPfn);
        foreach (RamRange range in layout.Ranges)
        {
            _frames.Fill(range.StartPfn, range.Pages, new Frame { Owner = FrameOwner.Free });
        }
    }

    public MemoryLayout Layout { get; }

    /// <summary>One past the highest pfn (max_pfn).</summary>
    public long EndPfn => _frames.Length;

    /// <summary>The frame at <paramref name="pfn"/>.</summary>
    public ref Frame this[long pfn] => ref _frames[pfn];

    /// <summary>Counts frames per owner (index = <see cref="FrameOwner"/>): the conservation check.</summary>
    public long[] CountByOwner()
    {
        long[] counts = new long[Enum.GetValues<FrameOwner>().Length];
        for (long pfn = 0; pfn < _frames.Length; pfn++)
        {
            counts[(int)_frames[pfn].Owner]++;
        }

        return counts;
    }
}
