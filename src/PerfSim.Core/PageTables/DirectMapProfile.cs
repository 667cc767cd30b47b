namespace PerfSim.Core.PageTables;

/// <summary>How an architecture builds and changes its linear map.</summary>
public enum DirectMapMode
{
    /// <summary>x86-64: 1G/2M/4K leaves, CPA splits with a global flush, no re-merge for
    /// set_direct_map_* (arch/x86/mm/pat/set_memory.c).</summary>
    X86,

    /// <summary>arm64 without BBML2_NOABORT and with rodata=full: <c>force_pte_mapping()</c> maps the
    /// whole linear map with 4 KiB PTEs at boot, so no split is ever needed (arch/arm64/mm/mmu.c).</summary>
    Arm64PteOnly,

    /// <summary>arm64 with BBML2_NOABORT: block-mapped (PUD/PMD sections, contiguous groups) and
    /// split lazily at the two ends of a changed range (<c>split_kernel_leaf_mapping</c>).</summary>
    Arm64Bbml2,
}

/// <summary>The direct-map part of an architecture profile.</summary>
/// <param name="Mode">How the linear map is built and changed.</param>
/// <param name="GbPages">x86: the CPU has GBPAGES and <c>direct_gbpages</c> is on, so 1G leaves are
/// used at boot and the DirectMap1G line is printed. arm64: PUD sections are used.</param>
/// <param name="CanSetDirectMap"><c>can_set_direct_map()</c>: x86 always true; arm64 =
/// rodata_full || debug_pagealloc || late KFENCE || realm. When false the primitives return 0 and
/// change nothing, and features that need them (memfd_secret, NO_DIRECT_MAP) refuse.</param>
public sealed record DirectMapProfile(DirectMapMode Mode, bool GbPages = true, bool CanSetDirectMap = true)
{
    public static DirectMapProfile X86 { get; } = new(DirectMapMode.X86);

    public static DirectMapProfile Arm64 { get; } = new(DirectMapMode.Arm64PteOnly);

    public static DirectMapProfile Arm64Bbml2 { get; } = new(DirectMapMode.Arm64Bbml2);

    public bool IsArm64 => Mode != DirectMapMode.X86;
}
