using PerfSim.Core.Flush;
using PerfSim.Core.PageTables;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Arch;

/// <summary>arm64 with BBML2_NOABORT: the linear map is block-mapped and split lazily at the ends of
/// a changed range (<c>split_kernel_leaf_mapping</c>, arch/arm64/mm/mmu.c). BBML2 parts are Armv8.4+,
/// where FEAT_TLBIRANGE is mandatory, so flushes use range TLBIs (<see cref="Arm64TlbiFlush"/> with
/// <see cref="Arm64TlbiFlush.HasTlbiRange"/>). The TLB is the Neoverse N1's: no BBML2 part's TLB
/// geometry was found.</summary>
public sealed class Arm64Bbml2Arch : ArchDescriptor
{
    private Arm64Bbml2Arch()
        : base(ArchKind.Arm64Bbml2, "arm64-bbml2", ArchFamily.Arm64, TlbGeometry.NeoverseN1, new Arm64TlbiFlush { HasTlbiRange = true })
    {
    }

    public static Arm64Bbml2Arch Instance { get; } = new();

    /// <summary>rodata=off leaves the map block-mapped but makes <c>can_set_direct_map()</c> false.</summary>
    public override DirectMapProfile DirectMap(bool gbPages, bool rodataFull) =>
        DirectMapProfile.Arm64Bbml2 with { GbPages = gbPages, CanSetDirectMap = rodataFull };

    protected override string MapLabel(DirectMapProfile profile) => "BBML2, block-mapped linear map";
}
