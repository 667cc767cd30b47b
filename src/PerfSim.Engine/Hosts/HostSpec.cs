using PerfSim.Core;
using PerfSim.Core.Arch;
using PerfSim.Core.Host;
using PerfSim.Core.PageTables;
using PerfSim.Engine.Inputs;
using PerfSim.Reporting.Input;

namespace PerfSim.Engine.Hosts;

/// <summary>
/// A simulated host's memory: its RAM layout (from a size or an e820 dump) or a direct map given
/// as /proc/meminfo totals, and the architecture's direct-map profile
/// (<see cref="ArchDescriptor.DirectMap"/>).
/// </summary>
public sealed record HostSpec(string Arch, DirectMapProfile Profile, MemoryLayout Layout, IReadOnlyList<BootMapping>? BootPlan, string RamSource)
{
    /// <summary>Smallest host: 16 MiB, enough for the boot reservations of the allocator.</summary>
    public const long MinRamBytes = 16 * PageGeometry.MiB;

    /// <summary><see cref="RamSource"/> of a host given by its size.</summary>
    public const string SizeSource = "ram";

    /// <summary>One phrase describing <see cref="Profile"/> on <see cref="Arch"/> (its descriptor's
    /// <see cref="ArchDescriptor.Label"/>).</summary>
    public string ProfileLabel => Architectures.Of(ArchKinds.Parse(Arch)).Label(Profile);

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
