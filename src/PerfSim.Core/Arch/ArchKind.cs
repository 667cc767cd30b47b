namespace PerfSim.Core.Arch;

/// <summary>The architectures PerfSim simulates, one <see cref="ArchDescriptor"/> each
/// (<see cref="Architectures"/>): how the direct map is built and split, how TLBs are flushed and
/// what the primitives cost.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores",
    Justification = "x86_64 is the architecture's name, shared with the CLI and the lead's direct-map code.")]
public enum ArchKind
{
    /// <summary>x86-64 without broadcast invalidation (<see cref="X86_64Arch"/>).</summary>
    X86_64,

    /// <summary>x86-64 with AMD INVLPGB/TLBSYNC (<see cref="X86_64InvlpgbArch"/>).</summary>
    X86_64Invlpgb,

    /// <summary>arm64 with the linear map PTE-mapped from boot (<see cref="Arm64Arch"/>).</summary>
    Arm64,

    /// <summary>arm64 with BBML2_NOABORT (<see cref="Arm64Bbml2Arch"/>).</summary>
    Arm64Bbml2,
}

/// <summary>User-facing names of <see cref="ArchKind"/> (<c>x86_64</c>, <c>x86_64-invlpgb</c>,
/// <c>arm64</c>, <c>arm64-bbml2</c>), read from the descriptors.</summary>
public static class ArchKinds
{
    /// <summary>Every name, in enum order.</summary>
    public static IReadOnlyList<string> CliNames { get; } = [.. Architectures.All.Select(a => a.Name)];

    /// <summary>The user-facing name of <paramref name="kind"/>.</summary>
    public static string ToCliName(this ArchKind kind) => Architectures.Of(kind).Name;

    /// <summary>True for the x86-64 family.</summary>
    public static bool IsX86(this ArchKind kind) => Architectures.Of(kind).Family == ArchFamily.X86;

    /// <summary>Parses a name (case-insensitive; '_' and '-' are interchangeable).</summary>
    public static bool TryParse(string? name, out ArchKind kind)
    {
        bool found = Architectures.TryParse(name, out ArchDescriptor? arch);
        kind = found ? arch!.Kind : default;
        return found;
    }

    /// <summary>Parses a name or throws a <see cref="FormatException"/> listing the accepted names.</summary>
    public static ArchKind Parse(string? name) => TryParse(name, out ArchKind kind)
        ? kind
        : throw new FormatException($"unknown architecture '{name}' (accepted: {string.Join(", ", CliNames)})");
}
