using PerfSim.Core.Allocator;

namespace PerfSim.Core.Kernel;

/// <summary><c>per-folio</c> (v9–v11 of the guest_memfd NO_DIRECT_MAP series): zero → prepare →
/// zap + flush at the folio's first mapping, remembered by a per-folio bit; restore in
/// <c>kvm_gmem_free_folio()</c>, then <c>kvm_arch_gmem_invalidate</c>.</summary>
public sealed record PerFolioDesign() : Design(
    Id: Strategy.PerFolio,
    Name: "per-folio",
    Zap: ZapPoint.FirstMap,
    PrepareBeforeZap: true,
    Alloc: AllocFlags.None,
    Zero: ZeroThrough.DirectMap,
    DirectMapWrite: true,
    Restore: RestorePoint.FreeFolio,
    Flush: FlushPolicy.PerZap);
