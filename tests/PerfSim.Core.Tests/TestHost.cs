using PerfSim.Core.Frames;
using PerfSim.Core.Host;
using PerfSim.Core.Invariants;
using PerfSim.Core.Memory;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Tests;

/// <summary>A host with a direct map and nothing else: arena, frames, page-table source, flush counter.</summary>
internal sealed class TestHost : IDisposable
{
    public TestHost(MemoryLayout layout, DirectMapProfile profile, IEnumerable<BootMapping>? plan = null)
    {
        Arena = new NativeArena();
        Frames = new FrameTable(Arena, layout);
        PageTables = new FaultInjectingPageTableAllocator(new TopDownPageTableAllocator(Frames));
        Flush = new CountingDirectMapFlush();
        DirectMap = plan is null
            ? new DirectMap(Arena, Frames, profile, PageTables, Flush)
            : new DirectMap(Arena, Frames, profile, PageTables, Flush, plan);
        Checker = new InvariantChecker(DirectMap);
    }

    public NativeArena Arena { get; }

    public FrameTable Frames { get; }

    public FaultInjectingPageTableAllocator PageTables { get; }

    public CountingDirectMapFlush Flush { get; }

    public DirectMap DirectMap { get; }

    public InvariantChecker Checker { get; }

    public static TestHost X86(long ramBytes, bool gbPages = true) =>
        new(MemoryLayout.FromSize(ramBytes), DirectMapProfile.X86 with { GbPages = gbPages });

    public void Dispose() => Arena.Dispose();
}
