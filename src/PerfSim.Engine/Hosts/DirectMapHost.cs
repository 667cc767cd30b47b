using PerfSim.Core.Frames;
using PerfSim.Core.Invariants;
using PerfSim.Core.Memory;
using PerfSim.Core.PageTables;

namespace PerfSim.Engine.Hosts;

/// <summary>A host with frames, a direct map and its invariant checker, and nothing else: what the
/// <c>directmap</c> command needs. Owns the native memory.</summary>
public sealed class DirectMapHost : IDisposable
{
    private readonly NativeArena _arena = new();

    public DirectMapHost(HostSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        Frames = new FrameTable(_arena, spec.Layout);
        PageTables = new FaultInjectingPageTableAllocator(new TopDownPageTableAllocator(Frames));
        Flush = new CountingDirectMapFlush();
        DirectMap = spec.BootPlan is null
            ? new DirectMap(_arena, Frames, spec.Profile, PageTables, Flush)
            : new DirectMap(_arena, Frames, spec.Profile, PageTables, Flush, spec.BootPlan);
        Checker = new InvariantChecker(DirectMap);
    }

    public HostSpec Spec { get; }

    public FrameTable Frames { get; }

    public FaultInjectingPageTableAllocator PageTables { get; }

    public CountingDirectMapFlush Flush { get; }

    public DirectMap DirectMap { get; }

    public InvariantChecker Checker { get; }

    public long NativeBytes => _arena.AllocatedBytes;

    public void Dispose() => _arena.Dispose();
}
