using PerfSim.Core.Tlb;

namespace PerfSim.Core.Costs;

/// <summary>
/// What an architecture does, as opposed to what it costs (<see cref="CostProfile"/>): the TLB
/// geometry and the flush thresholds of the kernel for that architecture.
/// </summary>
public sealed record ArchProfile
{
    /// <summary>x86 <c>tlb_single_page_flush_ceiling</c> default (arch/x86/mm/tlb.c, commit a5102476a24b).</summary>
    public const int DefaultSinglePageFlushCeiling = 33;

    /// <summary>arm64 <c>MAX_DVM_OPS</c> = <c>PTRS_PER_PTE</c> for a 4 KiB granule (arch/arm64/include/asm/tlbflush.h).</summary>
    public const int DefaultMaxDvmOps = 512;

    /// <summary>arm64 <c>MAX_TLBI_RANGE_PAGES</c> = (31 + 1) &lt;&lt; (5 × 3 + 1).</summary>
    public const long DefaultMaxTlbiRangePages = 32L << 16;

    public required ArchKind Kind { get; init; }

    public required TlbGeometry Geometry { get; init; }

    /// <summary>x86: flushes of more pages than this become full flushes (strictly greater).</summary>
    public int SinglePageFlushCeiling { get; init; } = DefaultSinglePageFlushCeiling;

    /// <summary>x86 INVLPGB: pages per INVLPGB instruction, <c>(CPUID 0x80000008 EDX[15:0]) + 1</c>.
    /// Default 8 is UNVERIFIED (no published value was found for Milan); configurable.</summary>
    public int InvlpgbCountMax { get; init; } = 8;

    /// <summary>arm64: FEAT_TLBIRANGE present (range TLBIs, full flush only above
    /// <see cref="MaxTlbiRangePages"/>). Neoverse N1 (Armv8.2) has none; BBML2 parts are Armv8.4+ where
    /// it is mandatory.</summary>
    public bool HasTlbiRange { get; init; }

    /// <summary>arm64 without range ops: a flush of this many pages or more becomes TLBI VMALLE1IS.</summary>
    public int MaxDvmOps { get; init; } = DefaultMaxDvmOps;

    /// <summary>arm64 with range ops: a flush of more pages than this becomes TLBI VMALLE1IS.</summary>
    public long MaxTlbiRangePages { get; init; } = DefaultMaxTlbiRangePages;

    /// <summary>The built-in profile of <paramref name="kind"/>.</summary>
    public static ArchProfile For(ArchKind kind) => new()
    {
        Kind = kind,
        Geometry = TlbGeometry.For(kind),
        HasTlbiRange = kind == ArchKind.Arm64Bbml2,
    };

    /// <summary>Throws when a threshold is outside what the kernel allows.</summary>
    public void Validate()
    {
        Geometry.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(SinglePageFlushCeiling);
        ArgumentOutOfRangeException.ThrowIfLessThan(InvlpgbCountMax, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(InvlpgbCountMax, 65536);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDvmOps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTlbiRangePages, 1);
    }
}
