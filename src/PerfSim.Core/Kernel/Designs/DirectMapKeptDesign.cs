using PerfSim.Core.Allocator;

namespace PerfSim.Core.Kernel;

/// <summary><c>none</c>: baseline guest_memfd; the direct map keeps every folio (and NO_DIRECT_MAP
/// is refused).</summary>
public sealed record DirectMapKeptDesign() : Design(
    Id: Strategy.None,
    Name: "none",
    Zap: ZapPoint.None,
    PrepareBeforeZap: true,
    Alloc: AllocFlags.None,
    Zero: ZeroThrough.DirectMap,
    DirectMapWrite: true,
    Restore: RestorePoint.None,
    Flush: FlushPolicy.None);
