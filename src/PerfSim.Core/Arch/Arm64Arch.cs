using PerfSim.Core.Flush;
using PerfSim.Core.PageTables;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Arch;

/// <summary>arm64 without BBML2_NOABORT, on a Neoverse N1 (Armv8.2, no FEAT_TLBIRANGE): broadcast
/// TLBI per page, DSB wait, never IPIs (<see cref="Arm64TlbiFlush"/>). With rodata=full
/// <c>force_pte_mapping()</c> maps the linear map with PTEs from boot; with rodata=off it is
/// block-mapped and <c>can_set_direct_map()</c> is false (arch/arm64/mm/mmu.c, pageattr.c).
/// guest_memfd NO_DIRECT_MAP also needs FEAT_S2FWB, optional before Armv8.4: a run says whether the
/// CPUs have it (<see cref="Kernel.KernelOptions.Stage2Fwb"/>, default on; whether the N1 implements
/// it is UNVERIFIED).</summary>
public sealed class Arm64Arch : ArchDescriptor
{
    private Arm64Arch()
        : base(ArchKind.Arm64, "arm64", ArchFamily.Arm64, TlbGeometry.NeoverseN1, new Arm64TlbiFlush { HasTlbiRange = false })
    {
    }

    public static Arm64Arch Instance { get; } = new();

    public override DirectMapProfile DirectMap(bool gbPages, bool rodataFull) => rodataFull
        ? DirectMapProfile.Arm64
        : new DirectMapProfile(DirectMapMode.Arm64Bbml2, gbPages, CanSetDirectMap: false);

    protected override string MapLabel(DirectMapProfile profile) => "rodata=full, PTE-only linear map";
}
