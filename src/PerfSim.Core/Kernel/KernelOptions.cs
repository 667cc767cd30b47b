using PerfSim.Core.Arch;
using PerfSim.Core.Costs;
using PerfSim.Core.Host;
using PerfSim.Core.PageTables;

namespace PerfSim.Core.Kernel;

/// <summary>How guest_memfd NO_DIRECT_MAP removes guest memory from the direct map (kernel-model.md §4).</summary>
public enum Strategy : byte
{
    /// <summary>Direct map kept (baseline guest_memfd).</summary>
    None,

    /// <summary>v9–v11: zero → prepare → zap + flush at first mapping, per-folio bit, restore in free_folio.</summary>
    PerFolio,

    /// <summary>v12: zero → zap → prepare; free_folio invalidates, then restores.</summary>
    PerFolioV12,

    /// <summary>The filemap-level proposal (v13 plan): zap in filemap_add_folio, restore in removal;
    /// pages must be zeroed before insertion.</summary>
    Filemap,

    /// <summary>ALLOC_UNMAPPED: folios come from pageblocks flipped out of the direct map with one
    /// flush per 512 pages; no per-page zap or flush; zeroing through the mermap.</summary>
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
    public static IReadOnlyList<string> Strategies { get; } = ["none", "per-folio", "per-folio-v12", "filemap", "unmapped-alloc"];

    public static IReadOnlyList<string> PopulationPaths { get; } = ["memcpy", "write-directmap", "write-mermap", "gmem-populate"];

    public static string Name(this Strategy s) => Strategies[(int)s];

    public static string Name(this PopulationPath p) => PopulationPaths[(int)p];

    public static bool TryParseStrategy(string? text, out Strategy strategy)
    {
        int i = text is null ? -1 : Array.IndexOf([.. Strategies], text);
        strategy = i < 0 ? default : (Strategy)i;
        return i >= 0;
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

    /// <summary>Take a model lock around TLB, direct-map and flush operations so that many host
    /// threads may call the kernel at once (the components themselves are single-writer).</summary>
    public bool ThreadSafe { get; init; }

    public KernelBugs Bugs { get; init; }

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Cpus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Cpus, Tlb.TlbModel.MaxCpus);
        if (GuestFolioOrder is not (0 or 9))
        {
            throw new ArgumentOutOfRangeException(nameof(GuestFolioOrder), GuestFolioOrder, "guest_memfd folios are order 0 or 9");
        }
    }
}
