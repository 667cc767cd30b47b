using PerfSim.Core.Costs;
using PerfSim.Core.Flush;
using PerfSim.Core.PageTables;
using PerfSim.Core.Tlb;

namespace PerfSim.Core.Arch;

/// <summary>The instruction-set family of an architecture: what options apply to it (x86 has no
/// <c>rodata=</c> choice; arm64 has no 1G-page CPUID bit to honour at boot).</summary>
public enum ArchFamily
{
    X86,
    Arm64,
}

/// <summary>
/// Everything PerfSim knows about one architecture, in one place: its kind and user-facing name,
/// the TLB it simulates, how it maps its direct map, how it flushes, and what its primitives cost
/// by default. One subclass per architecture (one file each), registered in
/// <see cref="Architectures"/>.
/// </summary>
public abstract class ArchDescriptor
{
    /// <summary>Text of a profile whose primitives are no-ops (<c>can_set_direct_map()</c> false).</summary>
    public const string CannotSetDirectMapLabel = "can_set_direct_map() false: primitives change nothing";

    /// <summary>Creates the descriptor; <paramref name="costs"/> defaults to the calibrated
    /// <see cref="CostProfile"/> constants tagged with <paramref name="kind"/>.</summary>
    protected ArchDescriptor(ArchKind kind, string name, ArchFamily family, TlbGeometry tlb, IFlushModel flush, CostProfile? costs = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(tlb);
        ArgumentNullException.ThrowIfNull(flush);
        Kind = kind;
        Name = name;
        Family = family;
        Tlb = tlb;
        Flush = flush;
        Costs = costs ?? new CostProfile { Arch = kind };
        if (Costs.Arch != kind)
        {
            throw new ArgumentException($"default costs of {name} are tagged {Costs.Arch}", nameof(costs));
        }

        Profile = new ArchProfile { Kind = kind, Geometry = tlb, Flush = flush };
    }

    public ArchKind Kind { get; }

    /// <summary>The name users type (<c>--arch</c>, scenario files, cost profiles) and reports print.</summary>
    public string Name { get; }

    public ArchFamily Family { get; }

    /// <summary>The per-CPU last-level data TLB simulated by default.</summary>
    public TlbGeometry Tlb { get; }

    /// <summary>How <c>flush_tlb_kernel_range</c>, <c>flush_tlb_all</c> and local flushes run and what they cost.</summary>
    public IFlushModel Flush { get; }

    /// <summary>The default costs (<see cref="CostProfile.Default"/>); a cost-profile file overrides single fields.</summary>
    public CostProfile Costs { get; }

    /// <summary>The TLB and flush rules a run starts from (<see cref="ArchProfile.For"/>).</summary>
    public ArchProfile Profile { get; }

    /// <summary>How this architecture maps and changes its linear map, given the host's
    /// <c>gbpages</c> and <c>rodata=</c> settings.</summary>
    public abstract DirectMapProfile DirectMap(bool gbPages, bool rodataFull);

    /// <summary>One phrase describing <paramref name="profile"/> (the <c>perfsim directmap</c> header).</summary>
    public string Label(DirectMapProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return profile.CanSetDirectMap ? MapLabel(profile) : CannotSetDirectMapLabel;
    }

    /// <summary>The phrase of a profile whose primitives work.</summary>
    protected abstract string MapLabel(DirectMapProfile profile);

    public override string ToString() => Name;
}
