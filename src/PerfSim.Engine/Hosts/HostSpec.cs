using PerfSim.Core;
using PerfSim.Core.Costs;
using PerfSim.Core.Host;
using PerfSim.Core.PageTables;
using PerfSim.Engine.Inputs;
using PerfSim.Reporting.Input;

namespace PerfSim.Engine.Hosts;

/// <summary>The direct-map part of each architecture profile (<c>--arch</c>, <see cref="ArchKinds"/>).</summary>
public static class DirectMapProfiles
{
    /// <summary>How <paramref name="arch"/> maps and changes its linear map. INVLPGB changes how x86
    /// flushes, not how it maps. arm64 without BBML2: rodata=full forces a PTE-only map; with
    /// rodata=off the map is block-mapped and can_set_direct_map() is false (arch/arm64/mm/mmu.c,
    /// pageattr.c).</summary>
    public static DirectMapProfile For(ArchKind arch, bool gbPages, bool rodataFull) => arch switch
    {
        ArchKind.X86_64 or ArchKind.X86_64Invlpgb => DirectMapProfile.X86 with { GbPages = gbPages },
        ArchKind.Arm64 => rodataFull ? DirectMapProfile.Arm64 : new DirectMapProfile(DirectMapMode.Arm64Bbml2, gbPages, CanSetDirectMap: false),
        _ => DirectMapProfile.Arm64Bbml2 with { GbPages = gbPages, CanSetDirectMap = rodataFull },
    };
}

/// <summary>
/// A simulated host's memory: its RAM layout (from a size or an e820 dump) or a direct map given
/// as /proc/meminfo totals, and the architecture's direct-map profile.
/// </summary>
public sealed record HostSpec(string Arch, DirectMapProfile Profile, MemoryLayout Layout, IReadOnlyList<BootMapping>? BootPlan, string RamSource)
{
    /// <summary>Smallest host: 16 MiB, enough for the boot reservations of the allocator.</summary>
    public const long MinRamBytes = 16 * PageGeometry.MiB;

    /// <summary><see cref="RamSource"/> of a host given by its size.</summary>
    public const string SizeSource = "ram";

    public static HostSpec FromSize(string arch, DirectMapProfile profile, long ramBytes) =>
        new(arch, profile, MemoryLayout.FromSize(ramBytes), null, SizeSource);

    public static HostSpec FromE820(string arch, DirectMapProfile profile, string text, string source) =>
        new(arch, profile, HostInputs.ParseE820(text, source), null, source);

    public static HostSpec FromMeminfo(string arch, DirectMapProfile profile, string text, string source)
    {
        MeminfoTotals t = HostInputs.ParseMeminfo(text, source);
        try
        {
            var (layout, plan) = DirectMapBoot.FromMeminfoTotals(t.DirectMap4k, t.DirectMap2M, t.DirectMap1G, profile);
            return new HostSpec(arch, profile, layout, plan, source);
        }
        catch (ArgumentException e)
        {
            throw new InputException($"{source}: {e.Message}");
        }
    }
}
