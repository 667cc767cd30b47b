using PerfSim.Core.Flush;
using PerfSim.Core.PageTables;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Arch;

/// <summary>x86-64 without broadcast invalidation, on an Intel Skylake-SP: kernel-range flushes are
/// IPIs to every other online CPU (<c>on_each_cpu</c>), INVLPG per page or a full flush above the
/// ceiling (<see cref="X86IpiFlush"/>); 1G/2M/4K direct map split by CPA
/// (arch/x86/mm/pat/set_memory.c).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores",
    Justification = "x86_64 is the architecture's name.")]
public sealed class X86_64Arch : ArchDescriptor
{
    private X86_64Arch()
        : base(ArchKind.X86_64, "x86_64", ArchFamily.X86, TlbGeometry.SkylakeSp, new X86IpiFlush())
    {
    }

    public static X86_64Arch Instance { get; } = new();

    /// <summary>INVLPGB changes how x86 flushes, not how it maps: both x86 kinds map alike. x86 can
    /// always change its direct map, so <c>rodata=</c> does not apply.</summary>
    public override DirectMapProfile DirectMap(bool gbPages, bool rodataFull) => X86DirectMap(gbPages);

    protected override string MapLabel(DirectMapProfile profile) => X86Label(profile);

    internal static DirectMapProfile X86DirectMap(bool gbPages) => DirectMapProfile.X86 with { GbPages = gbPages };

    internal static string X86Label(DirectMapProfile profile) => profile.GbPages ? "gbpages on" : "gbpages off";
}
