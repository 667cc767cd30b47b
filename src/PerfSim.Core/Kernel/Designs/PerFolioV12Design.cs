using PerfSim.Core.Allocator;

namespace PerfSim.Core.Kernel;

/// <summary>
/// <c>per-folio-v12</c> (v12 of the guest_memfd NO_DIRECT_MAP series, virt/kvm/guest_memfd.c):
/// zero → zap + flush → <c>kvm_arch_gmem_prepare()</c> at the folio's first mapping, so the
/// prepare (e.g. an RMP update) never sees a folio still in the direct map; <c>free_folio</c>
/// invalidates, then restores.
/// </summary>
/// <remarks>The worked example of "a design is one record plus its tests" (docs/architecture.md):
/// it differs from <see cref="PerFolioDesign"/> in one field, <see cref="Design.PrepareBeforeZap"/>,
/// and the paths need no line of their own for it. Its tests: tests/PerfSim.Core.Tests/Kernel/Designs/PerFolioV12DesignTests.cs.</remarks>
public sealed record PerFolioV12Design() : Design(
    Id: Strategy.PerFolioV12,
    Name: "per-folio-v12",
    Zap: ZapPoint.FirstMap,
    PrepareBeforeZap: false,
    Alloc: AllocFlags.None,
    Zero: ZeroThrough.DirectMap,
    DirectMapWrite: true,
    Restore: RestorePoint.FreeFolio,
    Flush: FlushPolicy.PerZap);
