using System.Runtime.InteropServices;

namespace PerfSim.Core.Events;

/// <summary>
/// The kinds of simulated kernel events. The numeric values are stable: they are written to
/// binary traces and used as EventSource event ids, so never renumber, only append.
/// </summary>
public enum SimEventKind : byte
{
    /// <summary>A guest fault (<c>kvm_gmem_get_pfn</c>) or secretmem/user fault completed.
    /// Pfn = backing frame; Extra = file index (gfn).</summary>
    Fault = 1,

    /// <summary>One page populated by the VMM. Pfn = frame (-1 when the path refused it); Extra = file index.</summary>
    PopulatePage = 2,

    /// <summary>Direct-map entries made non-present. Pfn = first frame; Extra = pages.</summary>
    DirectMapZap = 3,

    /// <summary>Direct-map entries made present again. Pfn = first frame; Extra = pages.</summary>
    DirectMapRestore = 4,

    /// <summary>A 2M leaf split to 4K (direct_map_level2_splits). Pfn = first frame of the 2M region.</summary>
    Split2M = 5,

    /// <summary>A 1G leaf split to 2M (direct_map_level3_splits). Pfn = first frame of the 1G region.</summary>
    Split1G = 6,

    /// <summary><c>flush_tlb_kernel_range</c>. Pfn = first frame; Extra = pages (0 when it became a full flush).</summary>
    FlushKernelRange = 7,

    /// <summary><c>flush_tlb_all</c>. Extra = IPIs sent.</summary>
    FlushAll = 8,

    /// <summary>A local-only flush (mermap slot wrap). </summary>
    FlushLocal = 9,

    /// <summary>A mermap slot taken. Pfn = frame; Extra = pages.</summary>
    MermapGet = 10,

    /// <summary>A mermap slot released.</summary>
    MermapPut = 11,

    /// <summary>An invariant violation. Pfn = frame; Extra = ViolationKind.</summary>
    Violation = 12,

    /// <summary>FALLOC_FL_PUNCH_HOLE / truncate of a range. Pfn = first index; Extra = pages.</summary>
    PunchHole = 13,

    /// <summary>A whole pageblock flipped out of (Extra = 0) or back into (Extra = 1) the direct map.
    /// Pfn = first frame of the pageblock.</summary>
    PageblockFlip = 14,

    /// <summary>The engine started a phase: every CPU's clock was aligned to the latest one (a barrier
    /// in the workload, e.g. the VM boots once its memory is populated). Extra = phase number from 1.</summary>
    Phase = 15,
}

/// <summary>
/// One simulated kernel event: when (simulated ns), where (CPU), what, on which frame, and one
/// kind-specific value. 32 bytes, no references: events are recorded without allocation.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct SimEvent(long TimeNs, long Pfn, long Extra, int Cpu, SimEventKind Kind);

/// <summary>Where the engine sends events when recording is on. Implementations must not block
/// the simulation unboundedly (drop and count instead).</summary>
public interface ISimEventSink
{
    void Emit(in SimEvent e);
}
