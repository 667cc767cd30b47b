namespace PerfSim.Core.Costs;

/// <summary>The architecture profiles PerfSim simulates. The profile decides how the direct map is
/// built and split and how TLBs are flushed (arch/x86/mm/tlb.c, arch/arm64/mm/mmu.c, arch/arm64/include/asm/tlbflush.h).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores",
    Justification = "x86_64 is the architecture's name, shared with the CLI and the lead's direct-map code.")]
public enum ArchKind
{
    /// <summary>x86-64 without broadcast invalidation: kernel-range flushes are IPIs to every
    /// other online CPU (<c>on_each_cpu</c>), INVLPG per page or a full flush above the ceiling.</summary>
    X86_64,

    /// <summary>x86-64 with AMD INVLPGB/TLBSYNC: broadcast invalidation in chunks of
    /// <c>invlpgb_count_max</c> pages, one TLBSYNC, no IPIs.</summary>
    X86_64Invlpgb,

    /// <summary>arm64 with the linear map PTE-mapped from boot (no BBML2, rodata=full): broadcast
    /// TLBI per page, DSB wait, never IPIs.</summary>
    Arm64,

    /// <summary>arm64 with BBML2_NOABORT: block-mapped linear map split lazily; broadcast TLBIs
    /// (range TLBIs, FEAT_TLBIRANGE, by default).</summary>
    Arm64Bbml2,
}

/// <summary>CLI names of <see cref="ArchKind"/>: <c>x86_64</c>, <c>x86_64-invlpgb</c>,
/// <c>arm64</c>, <c>arm64-bbml2</c>.</summary>
public static class ArchKinds
{
    /// <summary>Every CLI name, in enum order.</summary>
    public static IReadOnlyList<string> CliNames { get; } = ["x86_64", "x86_64-invlpgb", "arm64", "arm64-bbml2"];

    /// <summary>The CLI name of <paramref name="kind"/>.</summary>
    public static string ToCliName(this ArchKind kind) => kind switch
    {
        ArchKind.X86_64 => "x86_64",
        ArchKind.X86_64Invlpgb => "x86_64-invlpgb",
        ArchKind.Arm64 => "arm64",
        ArchKind.Arm64Bbml2 => "arm64-bbml2",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown architecture kind"),
    };

    /// <summary>True for the two x86-64 kinds.</summary>
    public static bool IsX86(this ArchKind kind) => kind is ArchKind.X86_64 or ArchKind.X86_64Invlpgb;

    /// <summary>Parses a CLI name (case-insensitive; '_' and '-' are interchangeable).</summary>
    public static bool TryParse(string? name, out ArchKind kind)
    {
        string normalized = (name ?? string.Empty).Trim().ToLowerInvariant().Replace('_', '-');
        for (int i = 0; i < CliNames.Count; i++)
        {
            if (CliNames[i].Replace('_', '-') == normalized)
            {
                kind = (ArchKind)i;
                return true;
            }
        }

        kind = default;
        return false;
    }

    /// <summary>Parses a CLI name or throws a <see cref="FormatException"/> listing the accepted names.</summary>
    public static ArchKind Parse(string? name) => TryParse(name, out ArchKind kind)
        ? kind
        : throw new FormatException($"unknown architecture '{name}' (accepted: {string.Join(", ", CliNames)})");
}
