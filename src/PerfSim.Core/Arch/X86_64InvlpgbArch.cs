using PerfSim.Core.Flush;
using PerfSim.Core.PageTables;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Arch;

/// <summary>x86-64 with AMD INVLPGB/TLBSYNC, on a Zen 3 (Milan): broadcast invalidation in chunks
/// of <c>invlpgb_count_max</c> pages, one TLBSYNC, no IPIs (<see cref="X86InvlpgbFlush"/>). Maps
/// its direct map as <see cref="X86_64Arch"/> does.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores",
    Justification = "x86_64 is the architecture's name.")]
public sealed class X86_64InvlpgbArch : ArchDescriptor
{
    private X86_64InvlpgbArch()
        : base(ArchKind.X86_64Invlpgb, "x86_64-invlpgb", ArchFamily.X86, TlbGeometry.AmdZen3, new X86InvlpgbFlush())
    {
    }

    public static X86_64InvlpgbArch Instance { get; } = new();

    public override DirectMapProfile DirectMap(bool gbPages, bool rodataFull) => X86_64Arch.X86DirectMap(gbPages);

    protected override string MapLabel(DirectMapProfile profile) => X86_64Arch.X86Label(profile);
}
