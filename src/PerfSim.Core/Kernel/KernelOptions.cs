using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Host;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Kernel;

/// <summary>The stable id of a NO_DIRECT_MAP design (the configuration's type). What a design does
/// is its record in Kernel/Designs/ (<see cref="Designs.For(Strategy)"/>); nothing branches on these values.</summary>
public enum Strategy : byte
{
    /// <summary><see cref="DirectMapKeptDesign"/>.</summary>
    None,

    /// <summary><see cref="PerFolioDesign"/>.</summary>
    PerFolio,

    /// <summary><see cref="PerFolioV12Design"/>.</summary>
    PerFolioV12,

    /// <summary><see cref="FilemapDesign"/>.</summary>
    Filemap,

    /// <summary><see cref="UnmappedAllocDesign"/>.</summary>
    UnmappedAlloc,
}

/// <summary>How the VMM fills guest memory.</summary>
public enum PopulationPath : byte
{
    /// <summary>memcpy through the guest_memfd mmap: a user fault per page, then a copy.</summary>
    Memcpy,

    /// <summary>write() copying through the direct map.</summary>
    WriteDirectMap,

    /// <summary>write() copying through a mermap slot.</summary>
    WriteMermap,

    /// <summary>kvm_gmem_populate() (TDX/SNP): copies through the direct map; refused with NO_DIRECT_MAP.</summary>
    GmemPopulate,
}

/// <summary>The VM type, for the NO_DIRECT_MAP gating of kvm_arch_gmem_supports_no_direct_map().</summary>
public enum VmType : byte
{
    Default,
    Tdx,
    Snp,
}

/// <summary>Deliberately broken kernel variants, so tests can show the invariant checker catches them.</summary>
[Flags]
public enum KernelBugs : byte
{
    None = 0,

    /// <summary>Zap without the TLB flush (the v5 state): stale translations stay reachable.</summary>
    SkipFlush = 1 << 0,

    /// <summary>free_folio does not restore the direct map: the frame is freed while invalid.</summary>
    SkipRestore = 1 << 1,

    /// <summary>Zero the folio after zapping it (through the direct map).</summary>
    ZeroAfterZap = 1 << 2,
}

/// <summary>Names as users type them.</summary>
public static class KernelNames
{
    /// <summary>The designs' names, in id order (from their records).</summary>
    public static IReadOnlyList<string> Strategies { get; } = [.. Designs.All.Select(d => d.Name)];

    public static IReadOnlyList<string> PopulationPaths { get; } = ["memcpy", "write-directmap", "write-mermap", "gmem-populate"];

    public static string Name(this Strategy s) => Designs.For(s).Name;

    public static string Name(this PopulationPath p) => PopulationPaths[(int)p];

    public static bool TryParseStrategy(string? text, out Strategy strategy)
    {
        bool found = Designs.TryParse(text, out Design design);
        strategy = design.Id;
        return found;
    }

    public static bool TryParsePopulationPath(string? text, out PopulationPath path)
    {
        int i = text is null ? -1 : Array.IndexOf([.. PopulationPaths], text);
        path = i < 0 ? default : (PopulationPath)i;
        return i >= 0;
    }
}

/// <summary>Everything a <see cref="SimKernel"/> is built from.</summary>
public sealed record KernelOptions
{
    public required int Cpus { get; init; }

    public required ArchProfile Arch { get; init; }

    public required CostProfile Costs { get; init; }

    public required DirectMapProfile DirectMap { get; init; }

    public required MemoryLayout Layout { get; init; }

    /// <summary>An explicit boot layout of the direct map (from /proc/meminfo totals), or null.</summary>
    public IReadOnlyList<BootMapping>? BootPlan { get; init; }

    public Strategy Strategy { get; init; } = Strategy.None;

    /// <summary>guest_memfd folio order: 0 (today's guest_memfd) or 9 (2 MiB, huge guest_memfd).</summary>
    public int GuestFolioOrder { get; init; }

    public long MermapSlicePages { get; init; } = Mermap.Mermap.DefaultSlicePages;

    /// <summary>arm64: the CPUs have FEAT_S2FWB (<c>ARM64_HAS_STAGE2_FWB</c>). Without it
    /// <c>kvm_pgtable_stage2_map()</c> cleans the new page to PoC through the linear map, so
    /// guest_memfd refuses NO_DIRECT_MAP (<c>kvm_arch_gmem_supports_no_direct_map</c>, series v5
    /// 04/12 and v10 08/15 "KVM: arm64: define kvm_arch_gmem_supports_no_direct_map()"). Ignored on x86.</summary>
    public bool Stage2Fwb { get; init; } = true;

    /// <summary>When the per-folio designs flush their zaps (<see cref="Design.ZapFlush"/>).</summary>
    public ZapFlushPolicy FlushPolicy { get; init; } = ZapFlushPolicy.Every;

    public KernelBugs Bugs { get; init; }

    /// <summary>Quantum mode: how many closed quanta may wait for their weave (docs/engine.md,
    /// "Quantum and fidelity"). At 2 a quantum's weave has the next two quanta to run beside
    /// before the close that needs its delays, so it overlaps the lanes instead of holding up the
    /// close; the clocks then lag their delays by two quanta instead of one.</summary>
    public int WeaveDepth { get; init; } = DefaultWeaveDepth;

    /// <summary>The default <see cref="WeaveDepth"/>.</summary>
    public const int DefaultWeaveDepth = 2;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Cpus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Cpus, Tlb.TlbModel.MaxCpus);
        ArgumentOutOfRangeException.ThrowIfLessThan(WeaveDepth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(WeaveDepth, 3);
        if (GuestFolioOrder is not (0 or 9))
        {
            throw new ArgumentOutOfRangeException(nameof(GuestFolioOrder), GuestFolioOrder, "guest_memfd folios are order 0 or 9");
        }

        if (FlushPolicy.Kind != ZapFlushKind.Every)
        {
            if (!Designs.For(Strategy).TakesFlushPolicy)
            {
                throw new ArgumentException($"flush policy {FlushPolicy.Name} applies to the per-folio designs only, not {Strategy.Name()}", nameof(FlushPolicy));
            }

            // arch/arm64/mm/pageattr.c: set_direct_map_valid_noflush → __change_memory_common
            // flushes inside, so an arm64 zap cannot skip or defer its flush.
            if (DirectMap.IsArm64)
            {
                throw new ArgumentException($"flush policy {FlushPolicy.Name}: arm64 flushes inside set_direct_map_valid_noflush", nameof(FlushPolicy));
            }
        }
    }
}
